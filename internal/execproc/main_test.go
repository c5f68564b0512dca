package execproc_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain doubles as the co-process of the tests: with EXECPROC_HELPER
// set, the test binary answers requests instead of running tests.
func TestMain(m *testing.M) {
	switch os.Getenv("EXECPROC_HELPER") {
	case "":
		os.Exit(m.Run())
	case "reduce":
		n := 0
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			n++
		}
		fmt.Printf("%s:%d", os.Getenv("FANIN_JOB_ID"), n)
		os.Exit(0)
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var req struct {
			Event   string          `json:"event"`
			Payload json.RawMessage `json:"payload"`
		}
		_ = json.Unmarshal(sc.Bytes(), &req)
		switch p := string(req.Payload); {
		case p == `"crash"`:
			fmt.Fprintln(os.Stderr, "about to crash")
			os.Exit(3)
		case p == `"hang"`:
			// A grandchild in the co-process's group, then no answer.
			child := exec.Command("sleep", "300")
			if err := child.Start(); err != nil {
				fmt.Fprintln(os.Stderr, "start sleep:", err)
			}
			fmt.Fprintf(os.Stderr, "grandchild %d\n", child.Process.Pid)
			select {}
		case strings.HasPrefix(p, `{"pad":`):
			// A response line of exactly pad bytes before its newline.
			var v struct {
				Pad int `json:"pad"`
			}
			_ = json.Unmarshal(req.Payload, &v)
			fmt.Printf("{\"output\":\"%s\"}\n", strings.Repeat("x", v.Pad-len(`{"output":""}`)))
		case p == `"endless"`:
			// A line that never ends, until the handler stops reading.
			chunk := []byte(strings.Repeat("x", 4096))
			for {
				if _, err := os.Stdout.Write(chunk); err != nil {
					os.Exit(1)
				}
			}
		case p == `"other-event"`:
			// An answer left over from another request.
			fmt.Println(`{"event":"someone-else","output":1}`)
		case p == `"echo-event"`:
			fmt.Printf("{\"event\":%q,\"output\":2}\n", req.Event)
		case p == `"garbage"`:
			fmt.Println("this is not JSON")
		case p == `"bad"`:
			fmt.Println(`{"error":"bad payload","permanent":true}`)
		case p == `"flaky"`:
			fmt.Println(`{"error":"try again"}`)
		default:
			fmt.Fprintln(os.Stderr, "handling", req.Event)
			fmt.Printf("{\"output\":{\"echo\":%s,\"pid\":%d}}\n", strings.TrimSpace(p), os.Getpid())
		}
	}
}
