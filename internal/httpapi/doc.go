// Package httpapi serves fanin's HTTP JSON API under /api/v1/ and its
// dashboard (package dashboard) from one http.Handler: `coordinator serve`.
//
// The API submits jobs from NDJSON request bodies in bounded memory (package
// jobfile: the body is spooled to a temporary file, checked whole, then
// submitted in batches, so a malformed line creates nothing), lists jobs,
// reports a job's status with its rate and ETA, streams its progress as
// Server-Sent Events, pages through its failed and missing events, returns
// its committed result byte for byte (or the bytes of a Range header), and
// cancels, replays and retries jobs. A job says what it waits for that no
// live worker or coordinator does, and a submission warns of it, from the
// heartbeats (jobs.Registry), as `coordinator status` and `coordinator
// submit` do; errors read as the CLI prints them (exitcode.Message). A
// query parameter an operation does not accept is refused. Its
// OpenAPI document is served at /api/v1/openapi.json (openapi.json beside
// this file); a test checks every response of the package's tests against
// it, and its operations against the routes.
//
// Security: Config.Token, when set, is required as a bearer token on every
// /api/ request; mutating requests are POST only and refused when a browser
// sends them cross-site (http.CrossOriginProtection); Config.AllowedHosts
// refuses other Host headers (a DNS-rebinding defence for a server on
// loopback without a token); bodies and lines have limits (413 past them);
// every page and response carries a strict Content-Security-Policy.
package httpapi
