package locks_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/locks"
)

// exampleProvider returns a Provider on a fresh Redis (as Example makes
// one), the Redis, and the function that closes both.
func exampleProvider() (*locks.Provider, *redistest.Redis, func()) {
	r, done := redistest.ForExample()
	p, err := locks.New(locks.Config{Redis: r.Client, KeyPrefix: r.Prefix})
	if err != nil {
		log.Fatal(err)
	}
	return p, r, func() { p.Close(); done() }
}

// Acquire a lock, renew it, release it.
func Example() {
	r, done := redistest.ForExample()
	defer done()
	ctx := context.Background()

	p, err := locks.New(locks.Config{Redis: r.Client, KeyPrefix: r.Prefix})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	lock, err := p.Acquire(ctx, "job-42", &locks.AcquireOptions{TTL: 10 * time.Second, Timeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token:", lock.Token())

	if err := lock.Renew(ctx, 30*time.Second); err != nil {
		log.Fatal(err)
	}
	_, err = p.TryAcquire(ctx, "job-42", nil)
	fmt.Println("second acquire:", errors.Is(err, locks.ErrNotObtained))

	if err := lock.Release(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("release again:", errors.Is(lock.Release(ctx), locks.ErrNotHeld))

	next, err := p.TryAcquire(ctx, "job-42", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer next.Release(ctx)
	fmt.Println("next token:", next.Token())
	// Output:
	// token: 1
	// second acquire: true
	// release again: true
	// next token: 2
}

// A watchdog renews the lock while the work runs, and cancels the work's
// context if the lock is lost.
func ExampleLock_Watch() {
	p, _, done := exampleProvider()
	defer done()
	ctx := context.Background()

	lock, err := p.Acquire(ctx, "job-42", &locks.AcquireOptions{TTL: 300 * time.Millisecond, Timeout: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	w := lock.Watch(ctx)

	// Work for three TTLs under the watchdog's context.
	work := func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(900 * time.Millisecond):
			return nil
		}
	}
	fmt.Println("work:", work(w.Context()))
	fmt.Println("still held:", lock.Renew(ctx, 0) == nil)

	// Release stops the watchdog; Lost is closed without a loss.
	if err := lock.Release(ctx); err != nil {
		log.Fatal(err)
	}
	_, lost := <-w.Lost()
	fmt.Println("lost:", lost)
	// Output:
	// work: <nil>
	// still held: true
	// lost: false
}

// The sink accepts a write only under the newest token: a holder whose lock
// expired while it stalled is fenced off once the next holder has written.
func ExampleFence_CommitIfFenced() {
	p, r, done := exampleProvider()
	defer done()
	ctx := context.Background()

	fence, err := locks.NewFence(locks.FenceConfig{Redis: r.Client, KeyPrefix: r.Prefix})
	if err != nil {
		log.Fatal(err)
	}
	// The sink key carries the resource's hash tag: same cluster slot.
	result := r.Prefix + "result:" + locks.HashTag("job-42")

	stalled, err := p.TryAcquire(ctx, "job-42", &locks.AcquireOptions{TTL: 100 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the holder stalls past its TTL

	current, err := p.Acquire(ctx, "job-42", &locks.AcquireOptions{TTL: 10 * time.Second, Timeout: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer current.Release(ctx)
	fmt.Println("current:", fence.CommitIfFenced(ctx, "job-42", current.Token(), result, []byte("42 events"), time.Hour))

	err = fence.CommitIfFenced(ctx, "job-42", stalled.Token(), result, []byte("stale"), time.Hour)
	fmt.Println("stalled fenced:", errors.Is(err, locks.ErrFenced))
	fmt.Println("stalled release:", errors.Is(stalled.Release(ctx), locks.ErrNotHeld))
	fmt.Println("result:", r.Client.Get(ctx, result).Val())
	// Output:
	// current: <nil>
	// stalled fenced: true
	// stalled release: true
	// result: 42 events
}

// At most 2 acquisitions of a resource per period.
func ExampleNewThrottling() {
	r, done := redistest.ForExample()
	defer done()
	ctx := context.Background()

	th, err := locks.NewThrottling(locks.ThrottlingConfig{Redis: r.Client, KeyPrefix: r.Prefix, MaxHits: 2, Period: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		fmt.Println(i+1, th.TryAcquire(ctx, "send-report") == nil)
	}
	// Output:
	// 1 true
	// 2 true
	// 3 false
}

// Do runs a function while holding a lock, renewing it meanwhile, and
// releases it afterwards.
func ExampleProvider_Do() {
	p, _, done := exampleProvider()
	defer done()
	ctx := context.Background()

	err := p.Do(ctx, "report", &locks.AcquireOptions{TTL: 300 * time.Millisecond, Timeout: time.Second},
		func(ctx context.Context, l *locks.Lock) error {
			// Work for longer than the TTL: the lock is renewed meanwhile.
			select {
			case <-ctx.Done(): // the lock was lost
				return context.Cause(ctx)
			case <-time.After(time.Second):
			}
			fmt.Println("token", l.Token(), "renewed:", l.Renewals() >= 2)
			return nil
		})
	fmt.Println("err:", err)
	locked, _ := p.IsLocked(ctx, "report")
	fmt.Println("still locked:", locked)
	// Output:
	// token 1 renewed: true
	// err: <nil>
	// still locked: false
}

// An operator clears a lock whose holder is known to be gone. The holder,
// if it were still running, could no longer renew or release it.
func ExampleProvider_ForceRelease() {
	p, _, done := exampleProvider()
	defer done()
	ctx := context.Background()

	stuck, err := p.TryAcquire(ctx, "job-42", &locks.AcquireOptions{TTL: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	released, err := p.ForceRelease(ctx, "job-42")
	fmt.Println("released:", released, err)
	fmt.Println("old holder renews:", errors.Is(stuck.Renew(ctx, 0), locks.ErrNotHeld))

	next, err := p.TryAcquire(ctx, "job-42", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer next.Release(ctx)
	fmt.Println("next token:", next.Token())
	// Output:
	// released: true <nil>
	// old holder renews: true
	// next token: 2
}

// A lock tells when it was acquired, how long its caller waited, and how
// often it was renewed.
func ExampleLock_Renewals() {
	p, _, done := exampleProvider()
	defer done()
	ctx := context.Background()

	before := time.Now()
	l, err := p.Acquire(ctx, "job-42", &locks.AcquireOptions{TTL: 10 * time.Second, Timeout: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Release(ctx)
	for range 3 {
		if err := l.Renew(ctx, 0); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("acquired during the call:", !l.AcquiredAt().Before(before))
	fmt.Println("waited no longer than the call:", l.Waited() <= time.Since(before))
	fmt.Println("renewals:", l.Renewals())
	// Output:
	// acquired during the call: true
	// waited no longer than the call: true
	// renewals: 3
}
