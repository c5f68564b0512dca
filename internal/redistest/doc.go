// Package redistest hands tests a real Redis.
//
// New gives each test an isolated view of a shared server: a ready client and
// a unique key prefix. The server comes, in this order, from
//
//  1. FANIN_TEST_REDIS_URL: an existing server. Tests are isolated by key
//     prefix; the harness never flushes a server it did not start.
//  2. a Docker engine that answers: a redis:7 container started through
//     dockertest, shared by the tests of a package and removed at the end.
//  3. redis-server on PATH: a child process on a free loopback port with its
//     own temporary directory.
//
// and otherwise the test fails with a message naming those three ways.
// FANIN_TEST_REDIS_MODE=url|docker|process forces one of them.
//
// StartServer and StartCluster start dedicated redis-server processes for the
// fault and security tests: AOF persistence, a password and ACL users, TLS
// with a CA generated for the test, and a Redis Cluster of 3 masters
// (optionally one replica each). A Server can be killed (SIGKILL), restarted
// on the same port and data directory, paused (SIGSTOP) and resumed.
//
// Every process the harness starts is tied to the test binary with the Linux
// parent-death signal, so it dies with the binary even when a test panics or
// the binary is killed on timeout: no orphan redis-server is left behind.
// Call Main from TestMain to also remove temporary directories and
// containers in an orderly way.
package redistest
