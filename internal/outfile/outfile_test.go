package outfile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// TestUnusablePathsNameTheCause: the error of a path that cannot take the
// output names the directory at fault and why, never the temporary file,
// for Write and Check alike, and Check creates nothing.
func TestUnusablePathsNameTheCause(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "nodir", "x.json"), "directory " + filepath.Join(dir, "nodir") + " does not exist"},
		{filepath.Join(dir, "a", "b", "x.json"), "directory " + filepath.Join(dir, "a", "b") + " does not exist"},
		{filepath.Join(file, "x.json"), "directory " + file + ": a part of it is not a directory"},
		{dir, "is a directory"},
	} {
		for name, f := range map[string]func(string) error{
			"Write": func(p string) error { return outfile.Write(p, []byte("x")) },
			"Check": outfile.Check,
		} {
			err := f(tc.path)
			if !errors.Is(err, outfile.ErrUnusable) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), ".tmp-") {
				t.Errorf("%s(%s) = %v; want ErrUnusable saying %q, without the temporary file", name, tc.path, err, tc.want)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestUnwritableDirectory: a directory without write permission is
// unusable (skipped as root, who may write anyway).
func TestUnwritableDirectory(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root may write into a read-only directory")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	p := filepath.Join(dir, "x.json")
	for name, err := range map[string]error{"Write": outfile.Write(p, []byte("x")), "Check": outfile.Check(p)} {
		if !errors.Is(err, outfile.ErrUnusable) || !strings.Contains(err.Error(), "directory "+dir+": permission denied") {
			t.Errorf("%s into a read-only directory = %v; want ErrUnusable, permission denied", name, err)
		}
	}
}

// TestCheckChangesNothing: Check accepts what Write can write (a new file,
// a regular file, a symlink, a FIFO without a reader: it is not opened)
// and leaves each as it was.
func TestCheckChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular.json")
	if err := os.WriteFile(regular, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink("regular.json", link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(dir)
	for _, p := range []string{filepath.Join(dir, "new.json"), regular, link, fifo} {
		if err := outfile.Check(p); err != nil {
			t.Errorf("Check(%s) = %v", p, err)
		}
	}
	after, _ := os.ReadDir(dir)
	if len(after) != len(before) || read(t, regular) != "old" {
		t.Fatalf("Check changed the directory: %v, then %v; regular holds %q", before, after, read(t, regular))
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink changed: %v %v", fi.Mode(), err)
	}
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink("loop", loop); err != nil {
		t.Fatal(err)
	}
	if err := outfile.Check(loop); !errors.Is(err, outfile.ErrUnusable) {
		t.Fatalf("Check(symlink loop) = %v, want ErrUnusable", err)
	}
}

// TestWriteFuncKeepsTheFileWhenFillFails: output produced as it is written
// replaces the file only once complete; a failure leaves the old file and
// no temporary file.
func TestWriteFuncKeepsTheFileWhenFillFails(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := outfile.WriteFunc(p, func(w io.Writer) error {
		if _, err := io.WriteString(w, "partial"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || read(t, p) != "old" {
		t.Fatalf("WriteFunc with a failing fill = %v, file %q; want boom and the old file", err, read(t, p))
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".*tmp*")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	big := strings.Repeat("0123456789abcdef", 1<<14) // 256 KiB, beyond the buffer
	if err := outfile.WriteFunc(p, func(w io.Writer) error { _, err := io.WriteString(w, big); return err }); err != nil || read(t, p) != big {
		t.Fatalf("WriteFunc of 256 KiB: %v, %d bytes", err, len(read(t, p)))
	}
}

// TestWriteDeviceErrorNamesThePathOnce writes to /dev/full: the error says
// what failed on which path once, not "write X: write X: ...".
func TestWriteDeviceErrorNamesThePathOnce(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system:", err)
	}
	err := outfile.Write("/dev/full", []byte("result"))
	if want := "write /dev/full: no space left on device"; err == nil || err.Error() != want {
		t.Fatalf("Write to /dev/full = %v; want %q", err, want)
	}
}

// TestCheckFlag: stdout passes; a path that cannot take the file names the
// flag and is a usage error (ErrUnusable).
func TestCheckFlag(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "-"} {
		if err := outfile.CheckFlag("--out", p); err != nil {
			t.Errorf("CheckFlag(%q) = %v; want nil (stdout)", p, err)
		}
	}
	dir := t.TempDir()
	err := outfile.CheckFlag("--out", dir)
	if want := "--out " + dir + ": outfile: unusable output path: " + dir + " is a directory (want a file)"; !errors.Is(err, outfile.ErrUnusable) || err.Error() != want {
		t.Fatalf("CheckFlag(a directory) = %v; want %q", err, want)
	}
}
