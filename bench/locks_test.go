package bench

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/bsm/redislock"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/locks"
	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/redis/go-redis/v9"
)

// lockTTL is the lock TTL of every implementation: redsync's default expiry.
const lockTTL = 8 * time.Second

// acquireFunc blocks until it holds key (with the implementation's own way
// of waiting) and returns the release function.
type acquireFunc func(ctx context.Context, key string) (release func(context.Context) error, err error)

// impl is one lock implementation under test. newClient builds a lock client
// on its own Redis connection pool: one per simulated process.
type impl struct {
	name      string
	newClient func(b *testing.B, r *redistest.Redis) acquireFunc
}

// impls returns the implementations compared, fanin first.
func impls() []impl {
	return []impl{
		{"fanin", newFanin},
		{"redislock", newRedislock},
		{"redsync", newRedsync},
	}
}

// newRedisClient opens a client of its own on r's server.
func newRedisClient(b *testing.B, r *redistest.Redis) *redis.Client {
	b.Helper()
	opts, err := redis.ParseURL(r.URL)
	if err != nil {
		b.Fatal(err)
	}
	opts.ContextTimeoutEnabled = true
	c := redis.NewClient(opts)
	b.Cleanup(func() { c.Close() })
	return c
}

// newFanin: fanin's Redis fast path with pub/sub wake-ups.
func newFanin(b *testing.B, r *redistest.Redis) acquireFunc {
	p, err := locks.New(locks.Config{Redis: newRedisClient(b, r), KeyPrefix: r.Prefix})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	opts := &locks.AcquireOptions{TTL: lockTTL, Timeout: time.Minute}
	return func(ctx context.Context, key string) (func(context.Context) error, error) {
		l, err := p.Acquire(ctx, key, opts)
		if err != nil {
			return nil, err
		}
		return l.Release, nil
	}
}

// newRedislock: redislock retrying every 100 ms, the LinearBackoff of its
// README example (its default is not to retry at all, which cannot wait).
func newRedislock(b *testing.B, r *redistest.Redis) acquireFunc {
	c := redislock.New(newRedisClient(b, r))
	return func(ctx context.Context, key string) (func(context.Context) error, error) {
		l, err := c.Obtain(ctx, r.Prefix+"redislock:"+key, lockTTL, &redislock.Options{
			RetryStrategy: redislock.LinearBackoff(100 * time.Millisecond),
		})
		if err != nil {
			return nil, err
		}
		return l.Release, nil
	}
}

// newRedsync: redsync with its defaults (32 tries, a random 50-250 ms delay
// between them, 8 s expiry), on one Redis.
func newRedsync(b *testing.B, r *redistest.Redis) acquireFunc {
	rs := redsync.New(goredis.NewPool(newRedisClient(b, r)))
	return func(ctx context.Context, key string) (func(context.Context) error, error) {
		m := rs.NewMutex(r.Prefix + "redsync:" + key)
		if err := m.LockContext(ctx); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error {
			_, err := m.UnlockContext(ctx)
			return err
		}, nil
	}
}

// uncontendedBatch is the number of acquire+release pairs in one op of
// BenchmarkUncontended, so one -benchtime Nx suits both benchmarks.
const uncontendedBatch = 100

// BenchmarkUncontended measures acquire plus release of a free lock. One op
// is uncontendedBatch pairs; ns/op is reported per pair, and p50-ms, p90-ms
// and p99-ms are the distribution of single pairs.
func BenchmarkUncontended(b *testing.B) {
	r := redistest.New(b)
	for _, im := range impls() {
		b.Run(im.name, func(b *testing.B) {
			ctx := context.Background()
			acquire := im.newClient(b, r)
			timePair(ctx, b, acquire, "uncontended") // warm-up: connection, script cache
			lat := make([]time.Duration, 0, b.N*uncontendedBatch)
			b.ResetTimer()
			for range b.N {
				for range uncontendedBatch {
					lat = append(lat, timePair(ctx, b, acquire, "uncontended"))
				}
			}
			b.StopTimer()
			reportLatency(b, lat)
		})
	}
}

// timePair acquires and releases key once and returns how long it took.
func timePair(ctx context.Context, b *testing.B, acquire acquireFunc, key string) time.Duration {
	start := time.Now()
	release, err := acquire(ctx, key)
	if err != nil {
		b.Fatal(err)
	}
	if err := release(ctx); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkUncontendedPaired runs fanin and redislock pairs alternately on
// the same server, so the noise of a shared machine falls on both alike,
// and reports each one's median and the ratio fanin/redislock of the
// medians and of the means. One op is uncontendedBatch pairs of each.
func BenchmarkUncontendedPaired(b *testing.B) {
	r := redistest.New(b)
	ctx := context.Background()
	fanin, peer := newFanin(b, r), newRedislock(b, r)
	latF := make([]time.Duration, 0, b.N*uncontendedBatch)
	latP := make([]time.Duration, 0, b.N*uncontendedBatch)
	timePair(ctx, b, fanin, "paired") // warm-up: connections, script caches
	timePair(ctx, b, peer, "paired")
	b.ResetTimer()
	for i := range b.N * uncontendedBatch {
		if i%2 == 0 {
			latF = append(latF, timePair(ctx, b, fanin, "paired"))
			latP = append(latP, timePair(ctx, b, peer, "paired"))
		} else {
			latP = append(latP, timePair(ctx, b, peer, "paired"))
			latF = append(latF, timePair(ctx, b, fanin, "paired"))
		}
	}
	b.StopTimer()
	mean := func(lat []time.Duration) float64 {
		var sum time.Duration
		for _, d := range lat {
			sum += d
		}
		return float64(sum) / float64(len(lat))
	}
	meanF, meanP := mean(latF), mean(latP)
	slices.Sort(latF)
	slices.Sort(latP)
	medF, medP := float64(latF[len(latF)/2]), float64(latP[len(latP)/2])
	b.ReportMetric(medF/1e6, "fanin-p50-ms")
	b.ReportMetric(medP/1e6, "redislock-p50-ms")
	b.ReportMetric(medF/medP, "p50-ratio")
	b.ReportMetric(meanF/meanP, "mean-ratio")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkHandoff measures the hand-off latency of a contended lock: from
// the moment the holder calls release until the waiter, a separate client
// (another process, in production) blocked in acquire, holds the lock. The
// holder releases after a random delay of 10-210 ms, so the release falls at
// a random phase of a polling waiter's retry period. ns/op is the mean
// hand-off latency; p50-ms, p90-ms and p99-ms its distribution. Run it with
// a fixed count, for example -benchtime 200x: each op takes 10-210 ms.
func BenchmarkHandoff(b *testing.B) {
	r := redistest.New(b)
	for _, im := range impls() {
		b.Run(im.name, func(b *testing.B) {
			ctx := context.Background()
			holder, waiter := im.newClient(b, r), im.newClient(b, r)
			// Warm up both clients (connections, script cache); the waiter has at
			// least 10 ms to make its first attempt and start waiting.
			for _, acquire := range []acquireFunc{holder, waiter} {
				release, err := acquire(ctx, "handoff")
				if err != nil {
					b.Fatal(err)
				}
				if err := release(ctx); err != nil {
					b.Fatal(err)
				}
			}
			type got struct {
				at  time.Time
				err error
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				release, err := holder(ctx, "handoff")
				if err != nil {
					b.Fatal(err)
				}
				done := make(chan got, 1)
				go func() {
					wrelease, err := waiter(ctx, "handoff")
					at := time.Now()
					if err == nil {
						err = wrelease(ctx)
					}
					done <- got{at, err}
				}()
				time.Sleep(10*time.Millisecond + rand.N(200*time.Millisecond))
				start := time.Now()
				if err := release(ctx); err != nil {
					b.Fatal(err)
				}
				g := <-done
				if g.err != nil {
					b.Fatal(g.err)
				}
				lat = append(lat, g.at.Sub(start))
			}
			b.StopTimer()
			reportLatency(b, lat)
		})
	}
}

// reportLatency reports the mean of lat as ns/op and its 50th, 90th and
// 99th percentiles in milliseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	b.ReportMetric(float64(sum.Nanoseconds())/float64(len(lat)), "ns/op")
	slices.Sort(lat)
	for _, p := range []struct {
		q    int
		unit string
	}{{50, "p50-ms"}, {90, "p90-ms"}, {99, "p99-ms"}} {
		d := lat[min(len(lat)-1, len(lat)*p.q/100)]
		b.ReportMetric(float64(d.Nanoseconds())/1e6, p.unit)
	}
}
