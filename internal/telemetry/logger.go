package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// ErrInvalid is returned for a bad log format or level, or a bad metrics
// address.
var ErrInvalid = errors.New("telemetry: invalid setting")

// Log formats accepted by NewLogger.
const (
	// FormatText is slog's key=value text.
	FormatText = "text"
	// FormatJSON is one JSON object per line.
	FormatJSON = "json"
)

// NewLogger returns a logger writing to w in format (FormatText or
// FormatJSON) at level (debug, info, warn or error; case-insensitive).
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.TrimSpace(level))); err != nil {
		return nil, fmt.Errorf("%w: log level %q (want debug, info, warn or error)", ErrInvalid, level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(strings.TrimSpace(format)) {
	case FormatText:
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case FormatJSON:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("%w: log format %q (want %s or %s)", ErrInvalid, format, FormatText, FormatJSON)
}

// AsynqLogger routes Asynq's logs to l, as asynq.Logger. Fatal is logged as
// an error: the binaries decide when to exit.
type AsynqLogger struct {
	// L receives the logs.
	L *slog.Logger
}

// Debug logs at debug level.
func (a AsynqLogger) Debug(args ...any) { a.L.Debug(fmt.Sprint(args...), "component", "asynq") }

// Info logs at info level.
func (a AsynqLogger) Info(args ...any) { a.L.Info(fmt.Sprint(args...), "component", "asynq") }

// Warn logs at warn level.
func (a AsynqLogger) Warn(args ...any) { a.L.Warn(fmt.Sprint(args...), "component", "asynq") }

// Error logs at error level.
func (a AsynqLogger) Error(args ...any) { a.L.Error(fmt.Sprint(args...), "component", "asynq") }

// Fatal logs at error level.
func (a AsynqLogger) Fatal(args ...any) { a.L.Error(fmt.Sprint(args...), "component", "asynq") }

// RedisLogger routes go-redis's internal logs (redis.SetLogger) to l at
// debug level: connection retries are reported by the binaries' own
// errors.
type RedisLogger struct {
	// L receives the logs.
	L *slog.Logger
}

// Printf logs at debug level.
func (r RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.L.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}
