package execproc_test

import (
	"context"
	"fmt"

	"github.com/fanin-dev/fanin/internal/execproc"
)

// A handler written in shell: it answers every event with the same output.
func ExampleNewHandler() {
	h, err := execproc.NewHandler(execproc.Config{
		Kind:    "shell.constant",
		Command: `while read -r line; do echo '{"output":{"seen":true}}'; done`,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()
	out, err := h.Handle(context.Background(), []byte(`{"id":"e1"}`))
	fmt.Println(string(out), err)
	// Output: {"seen":true} <nil>
}
