package outfile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/fanin-dev/fanin/internal/outfile"
)

// read returns the content of path, failing the test on error.
func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteReplacesARegularFileKeepingItsMode(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "result.json")
	if err := os.WriteFile(p, []byte("old and longer"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o604); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(p)
	if err := outfile.Write(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(p)
	if err != nil || read(t, p) != "new" || after.Mode() != 0o604 {
		t.Fatalf("after Write: %q, mode %v, %v; want new, mode 0604", read(t, p), after.Mode(), err)
	}
	if os.SameFile(before, after) {
		t.Fatalf("the file was rewritten in place, not replaced atomically")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".*tmp*")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// TestWriteCreatesHonouringTheUmask is not parallel: it sets the process's
// umask, which parallel tests would see.
func TestWriteCreatesHonouringTheUmask(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		umask int
		want  os.FileMode
	}{{0o022, 0o644}, {0o027, 0o640}, {0o077, 0o600}} {
		old := syscall.Umask(tc.umask)
		p := filepath.Join(dir, "new.json")
		err := outfile.Write(p, []byte("x"))
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode() != tc.want {
			t.Errorf("umask %#o: mode %v, %v; want %v", tc.umask, fi.Mode(), err, tc.want)
		}
		os.Remove(p)
	}
}

func TestWriteFollowsSymlinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "target.json")
	if err := os.WriteFile(target, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	// link → chain → target.json (relative links, resolved from their own
	// directory).
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	chain := filepath.Join(dir, "sub", "chain")
	link := filepath.Join(dir, "link")
	if err := os.Symlink("../target.json", chain); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/chain", link); err != nil {
		t.Fatal(err)
	}
	if err := outfile.Write(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{link, chain} {
		if fi, err := os.Lstat(l); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("%s is no longer a symlink: %v %v", l, fi.Mode(), err)
		}
	}
	if fi, _ := os.Stat(target); read(t, target) != "new" || fi.Mode() != 0o640 {
		t.Fatalf("target: %q, mode %v; want new, mode 0640", read(t, target), fi.Mode())
	}
	// A dangling symlink: its target is created.
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink("created.json", dangling); err != nil {
		t.Fatal(err)
	}
	if err := outfile.Write(dangling, []byte("made")); err != nil || read(t, filepath.Join(dir, "created.json")) != "made" {
		t.Fatalf("dangling symlink: %v", err)
	}
	// A loop is refused.
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink("loop", loop); err != nil {
		t.Fatal(err)
	}
	if err := outfile.Write(loop, []byte("x")); !errors.Is(err, outfile.ErrUnusable) {
		t.Fatalf("symlink loop: %v, want ErrUnusable", err)
	}
}

func TestWriteIntoAFIFOInPlace(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until Write opens the other end
		if err != nil {
			got <- err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if err := outfile.Write(fifo, []byte("through the pipe")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the pipe" {
		t.Fatalf("the reader got %q", s)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: %v %v", fi.Mode(), err)
	}
}

func TestWriteRefusesUnusablePaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, p := range []string{dir, filepath.Join(dir, "missing", "out.json")} {
		if err := outfile.Write(p, []byte("x")); !errors.Is(err, outfile.ErrUnusable) {
			t.Errorf("Write(%s) = %v, want ErrUnusable", p, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Write left %v behind", entries)
	}
}
