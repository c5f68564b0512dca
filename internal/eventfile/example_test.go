package eventfile_test

import (
	"fmt"
	"strings"

	"github.com/fanin-dev/fanin/internal/eventfile"
)

func ExampleRead() {
	in := "{\"id\":\"s1\",\"count\":3}\n{\"id\":\"s2\",\"count\":\n"
	_, err := eventfile.Read(strings.NewReader(in), "sightings.jsonl", "id")
	fmt.Println(err)
	// Output: eventfile: malformed events: sightings.jsonl line 2: not valid JSON (unexpected end of JSON input); want one JSON value per line
}

func ExampleScan() {
	in := "{\"id\":\"s1\",\"count\":3}\n\n{\"count\":5}\n"
	for e, err := range eventfile.Scan(strings.NewReader(in), "sightings.jsonl", "id") {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q %s\n", e.ID, e.Payload)
	}
	// Output:
	// "s1" {"id":"s1","count":3}
	// "" {"count":5}
}
