package outfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/fanin-dev/fanin/internal/outfile"
)

// Write a result through a symlink: the link stays, its target is replaced
// atomically and keeps its mode.
func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "outfile-example-")
	defer os.RemoveAll(dir)
	target := filepath.Join(dir, "result.json")
	_ = os.WriteFile(target, []byte("{}"), 0o640)
	_ = os.Symlink("result.json", filepath.Join(dir, "latest.json"))

	if err := outfile.Write(filepath.Join(dir, "latest.json"), []byte(`{"herds":3}`)); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(target)
	fi, _ := os.Stat(target)
	fmt.Println(string(b), fi.Mode())
	// Output: {"herds":3} -rw-r-----
}
