package jobfile_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fanin-dev/fanin/internal/jobfile"
)

// A job's settings, as flags name them.
func ExampleSettings_Spec() {
	flag := func(p string) string { return "--" + p }
	spec, err := jobfile.Settings{Kind: "geo.lookup", Retention: "none", Policy: "continue"}.Spec(flag)
	fmt.Println(spec.Kind, spec.Retention, spec.FailurePolicy, err)
	_, err = jobfile.Settings{Kind: "geo.lookup", Policy: "maybe"}.Spec(flag)
	fmt.Println(err, errors.Is(err, jobfile.ErrSettings))
	// Output:
	// geo.lookup -1ns continue <nil>
	// --policy "maybe" (want fail or continue) true
}

// A malformed line is found by the first pass, before anything is written.
func ExampleSpool() {
	body := "{\"id\":\"a\"}\n{\"id\":\"b\"\n"
	_, err := jobfile.Spool(strings.NewReader(body), "request body", "id")
	fmt.Println(err)
	fmt.Println(errors.Is(err, jobfile.ErrInput))
	// Output:
	// eventfile: malformed events: request body line 2: not valid JSON (unexpected end of JSON input); want one JSON value per line
	// true
}
