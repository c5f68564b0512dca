// Package settings holds what fanin's two binaries share: the flags and
// environment variables that name Redis, the key namespace, the collect
// queue and the logs, and the connection they open.
//
// A flag given on the command line wins over its environment variable,
// which wins over the default. Defaults never come from the environment
// into --help, so a password in FANIN_REDIS_URL never shows there.
package settings
