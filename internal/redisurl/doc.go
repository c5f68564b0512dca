// Package redisurl turns the Redis URL a user gives fanin's binaries into a
// go-redis client, and redacts the secrets of such URLs for logs and errors.
//
// Accepted forms (user and password are optional everywhere; rediss uses
// TLS):
//
//	redis://[user:password@]host[:port][/db][?options]            one server
//	rediss://...                                                   one server over TLS
//	redis://[user:password@]host1:port1,host2:port2[?options]     a Redis Cluster (several seed nodes)
//	redis://host1:port1?addr=host2:port2&addr=host3:port3         a Redis Cluster (go-redis ParseClusterURL form)
//	redis+cluster://[user:password@]host:port[?options]           a Redis Cluster given by one seed node
//	redis+sentinel://[user:password@]s1:26379[,s2:26379]/master[/db][?options]
//	                                                               a Sentinel-managed master
//	unix://[user:password@]/path/to/redis.sock[?db=N]              a Unix socket
//
// The options are go-redis's (dial_timeout, read_timeout, pool_size, ...,
// skip_verify=true for TLS without verification). A Sentinel URL also takes
// sentinel_username and sentinel_password, the credentials of the Sentinels
// when they differ from the master's. Options.SentinelMaster turns a plain
// redis:// URL listing Sentinel addresses into a Sentinel URL, and
// Options.CAFile trusts a private CA for rediss.
//
// The user-info ends at the last '@'; '/', '?', '#' and '%' in a password
// must be percent-encoded (%2F, %3F, %23, %25; '@' may be, as %40), and a
// database number is 0 or more.
//
// Every client has ContextTimeoutEnabled set, so context deadlines are
// honoured. A rediss client dials with its own dialer: the TLS handshake
// honours the context and the dial timeout, and one that fails as it does
// with a server that does not speak TLS (no answer, plain text, the
// connection closed) says so and is not retried by go-redis's pool, so
// that such a server fails within one dial timeout. Passwords never appear in an error of this package: the
// user-info is split off before any parsing (a URL whose user-info cannot be
// told apart is reported without it), Redact replaces passwords, and every
// error text is scrubbed of them. FuzzParse checks it.
package redisurl
