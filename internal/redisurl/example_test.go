package redisurl_test

import (
	"fmt"

	"github.com/fanin-dev/fanin/internal/redisurl"
)

// Parse a cluster URL given as a list of seed nodes; the password never
// shows.
func ExampleParse() {
	t, err := redisurl.Parse("redis://app:s3cret@10.0.0.1:7000,10.0.0.2:7000", redisurl.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.Mode, t.Addrs, t.Redacted)
	_, err = redisurl.Parse("redis://app:s3cret@10.0.0.1:notaport", redisurl.Options{})
	fmt.Println(err)
	// Output:
	// cluster [10.0.0.1:7000 10.0.0.2:7000] redis://app:xxxxx@10.0.0.1:7000,10.0.0.2:7000
	// redisurl: invalid Redis URL "redis://app:xxxxx@10.0.0.1:notaport": invalid port ":notaport" after host
}
