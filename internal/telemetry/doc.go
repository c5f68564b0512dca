// Package telemetry gives fanin's binaries their structured logs (log/slog,
// text or JSON), their Prometheus metrics and the HTTP server that exposes
// /metrics and /healthz.
//
// /healthz answers 200 "ok" when the binary's health check passes (a Redis
// PING) and 503 with the error otherwise; /metrics serves a Registry holding
// the Go and process collectors, the metrics the binary registers, and the
// sizes of its Asynq queues (QueueCollector).
package telemetry
