package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ory/dockertest/v3"
	"github.com/ory/dockertest/v3/docker"
	"github.com/redis/go-redis/v9"
)

// dockerAvailable reports whether a Docker engine answers. It looks only
// where an engine could be (DOCKER_HOST or the default socket), so a machine
// without Docker costs nothing.
func dockerAvailable() error {
	if os.Getenv("DOCKER_HOST") == "" {
		if _, err := os.Stat("/var/run/docker.sock"); err != nil {
			return errors.New("DOCKER_HOST is not set and /var/run/docker.sock does not exist")
		}
	}
	pool, err := dockertest.NewPool("")
	if err != nil {
		return err
	}
	return pool.Client.Ping()
}

// startDockerRedis starts a redis:7 container and returns its address and a
// function that removes it. The container also expires by itself after 30
// minutes, should the test binary die before removing it.
func startDockerRedis() (string, func(), error) {
	pool, err := dockertest.NewPool("")
	if err != nil {
		return "", nil, fmt.Errorf("docker: %w", err)
	}
	res, err := pool.RunWithOptions(&dockertest.RunOptions{
		Repository: "redis",
		Tag:        "7",
		Cmd:        []string{"redis-server", "--save", "", "--appendonly", "no"},
	}, func(hc *docker.HostConfig) {
		hc.AutoRemove = true
		hc.RestartPolicy = docker.RestartPolicy{Name: "no"}
	})
	if err != nil {
		return "", nil, fmt.Errorf("docker: start redis:7: %w", err)
	}
	_ = res.Expire(30 * 60)
	stop := func() { _ = pool.Purge(res) }
	addr := res.GetHostPort("6379/tcp")
	pool.MaxWait = 30 * time.Second
	err = pool.Retry(func() error {
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return c.Ping(ctx).Err()
	})
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("docker: redis:7 at %s did not answer: %w", addr, err)
	}
	return addr, stop, nil
}
