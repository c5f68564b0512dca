package progress

import (
	"fmt"
	"math"
	"time"
)

// DefaultWindow is the sliding window of a Meter: the rate is the progress
// of the last 30 s of samples. Long enough that an ETA does not jump with
// every poll, short enough to follow a change of pace (a worker added or
// lost) within half a minute.
const DefaultWindow = 30 * time.Second

// MinSpan is the shortest span of samples a Meter computes a rate from:
// before the samples span a second, a rate would be noise (one poll's
// progress divided by a few milliseconds).
const MinSpan = time.Second

// Meter measures the rate of a growing count (events finished, events
// added) over a sliding window of samples, and the time left at that rate.
// It is driven by the caller's clock: each sample carries its time, so a
// test, or a dashboard replaying history, decides what "now" is. The zero
// Meter is not usable; build one with NewMeter. A Meter is not safe for
// concurrent use.
type Meter struct {
	window  time.Duration
	samples []sample
	changed time.Time // when the count last changed
}

// sample is one observation of the count.
type sample struct {
	at    time.Time
	count int64
}

// NewMeter returns a Meter over window (DefaultWindow when window <= 0).
func NewMeter(window time.Duration) *Meter {
	if window <= 0 {
		window = DefaultWindow
	}
	return &Meter{window: window}
}

// Observe records that the count was count at time at. Samples older than
// the window are forgotten, except the newest of them, which anchors the
// window's start. A count lower than the last one (events put back to work
// by a retry) starts the measurement again; a sample older than the last is
// ignored.
func (m *Meter) Observe(at time.Time, count int64) {
	n := len(m.samples)
	switch {
	case n > 0 && at.Before(m.samples[n-1].at):
		return
	case n > 0 && count < m.samples[n-1].count:
		m.samples, n = m.samples[:0], 0
	}
	switch {
	case n > 1 && m.samples[n-1].count == count && m.samples[n-2].count == count:
		// Still the same count: move the last sample forward rather than
		// add one, so an idle count holds two samples, not a window's
		// worth; the one before marks when it last changed.
		m.samples[n-1].at = at
	default:
		if n == 0 || count != m.samples[n-1].count {
			m.changed = at
		}
		m.samples = append(m.samples, sample{at, count})
	}
	// Keep one sample at or before the window's start.
	cut := 0
	for cut+1 < len(m.samples) && at.Sub(m.samples[cut+1].at) >= m.window {
		cut++
	}
	if cut > 0 {
		m.samples = append(m.samples[:0], m.samples[cut:]...)
	}
}

// span returns the first and last samples of the window.
func (m *Meter) span() (first, last sample, ok bool) {
	if len(m.samples) < 2 {
		return sample{}, sample{}, false
	}
	return m.samples[0], m.samples[len(m.samples)-1], true
}

// Rate returns the count's growth per second over the window. ok is false
// until the samples span MinSpan: no rate is better than an absurd one. A
// count that did not move in the window has rate 0 (see Idle).
func (m *Meter) Rate() (perSecond float64, ok bool) {
	first, last, ok := m.span()
	if !ok {
		return 0, false
	}
	d := last.at.Sub(first.at)
	if d < MinSpan {
		return 0, false
	}
	return float64(last.count-first.count) / d.Seconds(), true
}

// Idle returns how long the count has not moved, as of the last sample: 0
// while it moves, or before two samples.
func (m *Meter) Idle() time.Duration {
	if len(m.samples) < 2 {
		return 0
	}
	return m.samples[len(m.samples)-1].at.Sub(m.changed)
}

// ETA returns the time left to finish remaining more at the current rate.
// ok is false while there is no rate, or the rate is 0 (an idle count
// gives no ETA, not an infinite one).
func (m *Meter) ETA(remaining int64) (left time.Duration, ok bool) {
	rate, ok := m.Rate()
	if !ok || rate <= 0 {
		return 0, false
	}
	if remaining <= 0 {
		return 0, true
	}
	secs := float64(remaining) / rate
	if secs > float64(math.MaxInt64/int64(time.Second)) {
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)).Round(time.Second), true
}

// Pace describes the rate for people, in unit ("events", "lines"): "1,250
// events/s", "12 events/min" for slow counts, "idle for 40s" when the count
// has not moved in the window, and "" while there is no rate yet.
func (m *Meter) Pace(unit string) string {
	rate, ok := m.Rate()
	switch {
	case !ok:
		return ""
	case rate <= 0:
		return "idle for " + m.Idle().Round(time.Second).String()
	case rate >= 1:
		return fmt.Sprintf("%s %s/s", Thousands(int64(math.Round(rate))), unit)
	case rate*60 >= 1:
		return fmt.Sprintf("%.0f %s/min", rate*60, unit)
	}
	return fmt.Sprintf("%.1f %s/h", rate*3600, unit)
}

// Thousands formats n with commas: 1234567 -> "1,234,567".
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
