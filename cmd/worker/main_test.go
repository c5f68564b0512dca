package main

import (
	"testing"
	"time"
)

func TestParseQueues(t *testing.T) {
	t.Parallel()
	q, err := parseQueues(" high=6, default ,low=1")
	if err != nil || len(q) != 3 || q["high"] != 6 || q["default"] != 1 || q["low"] != 1 {
		t.Fatalf("parseQueues = %v, %v", q, err)
	}
	for _, bad := range []string{"", " , ", "a=0", "a=x"} {
		if _, err := parseQueues(bad); err == nil {
			t.Errorf("parseQueues(%q) succeeded", bad)
		}
	}
}

func TestRetryDelayDoublesUpToTheCap(t *testing.T) {
	t.Parallel()
	if retryDelay(0) != nil {
		t.Fatal("retryDelay(0) is not Asynq's default")
	}
	f := retryDelay(time.Second)
	for n, want := range map[int]time.Duration{0: time.Second, 1: 2 * time.Second, 3: 8 * time.Second, 20: maxRetryDelay, 1000: maxRetryDelay} {
		if got := f(n, nil, nil); got != want {
			t.Errorf("delay of retry %d = %v, want %v", n, got, want)
		}
	}
}
