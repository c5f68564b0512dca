package exitcode_test

import (
	"errors"
	"fmt"

	"github.com/fanin-dev/fanin/internal/exitcode"
)

func ExampleWith() {
	err := exitcode.With(exitcode.JobFailed, errors.New("job 1 failed: 3 events failed"))
	fmt.Println(exitcode.Of(fmt.Errorf("collect: %w", err)))
	// Output: 3
}
