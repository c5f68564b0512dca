package outfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// ErrUnusable is returned, wrapped, for a path that cannot take the output:
// a directory, a missing directory, a path without write permission, a
// read-only file system, a loop of symlinks. Its message names the cause
// and the path the caller gave or the directory at fault, never a
// temporary file.
var ErrUnusable = errors.New("outfile: unusable output path")

// maxLinks bounds the symlinks followed, like the kernel's ELOOP.
const maxLinks = 40

// Write writes data to path:
//
//   - a regular file is replaced atomically: data goes to a temporary file in
//     its directory, synced, given the file's mode (and owner, when the
//     process may), then renamed over it;
//   - a path where nothing is is created the same way, with mode 0666 less
//     the process's umask;
//   - a symlink is followed, and what it points to is written by these rules
//     (a dangling one is created);
//   - anything else (a character device, a FIFO) is opened for writing and
//     written in place.
//
// A FIFO without a reader blocks Write until one opens it, like a shell
// redirect. Errors about the path wrap ErrUnusable; others are I/O errors.
func Write(path string, data []byte) error {
	return WriteFunc(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFunc is Write for output produced as it is written: fill writes it
// to w. When fill fails, what was at path is left as it was if it was
// replaced atomically (a regular file, or nothing), and the error is
// fill's; a device or FIFO has had what fill wrote before it failed.
func WriteFunc(path string, fill func(w io.Writer) error) error {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return replace(target, fill, nil)
	case err != nil:
		return dirErr(filepath.Dir(target), err)
	case fi.IsDir():
		return fmt.Errorf("%w: %s is a directory (want a file)", ErrUnusable, path)
	case fi.Mode().IsRegular():
		return replace(target, fill, fi)
	}
	return inPlace(target, fill)
}

// Check reports whether Write could write path, without writing, creating
// or replacing anything: call it before work whose result goes to path
// (and that should not be done, or committed, for nothing). It follows
// symlinks like Write; a regular file or a path where nothing is needs a
// directory the process may create files in (Write puts a temporary file
// there), a device or FIFO needs write permission (it is not opened: a
// FIFO without a reader would block). Its errors wrap ErrUnusable, like
// Write's; Write may still fail, on what changed meanwhile or on I/O.
func Check(path string) error {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist), err == nil && fi.Mode().IsRegular():
		dir := filepath.Dir(target)
		if err := syscall.Access(dir, wOK|xOK); err != nil {
			return dirErr(dir, &fs.PathError{Op: "access", Path: dir, Err: err})
		}
		return nil
	case err != nil:
		return dirErr(filepath.Dir(target), err)
	case fi.IsDir():
		return fmt.Errorf("%w: %s is a directory (want a file)", ErrUnusable, path)
	}
	if err := syscall.Access(target, wOK); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrUnusable, target, err)
	}
	return nil
}

// CheckFlag is Check for the value of a command's flag (--out, say): ""
// and "-" (stdout) pass; an error names the flag and the path, and wraps
// ErrUnusable (a usage error: exit code 2).
func CheckFlag(flag, path string) error {
	if path == "" || path == "-" {
		return nil
	}
	if err := Check(path); err != nil {
		return fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return nil
}

// Modes of access(2).
const (
	wOK = 0x2
	xOK = 0x1
)

// dirErr is the error of a file that cannot be created (or looked up) in
// dir: it names dir and the cause, not the file. A missing directory, a
// path through a file, no permission and a read-only file system wrap
// ErrUnusable; other causes (no space left, an I/O error) do not.
func dirErr(dir string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("%w: %w", ErrUnusable, err)
	}
	switch errno {
	case syscall.ENOENT:
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() { // it exists, but takes no new file (/proc)
			return fmt.Errorf("%w: directory %s: cannot create a file there (want a directory this user may create files in)", ErrUnusable, dir)
		}
		return fmt.Errorf("%w: directory %s does not exist", ErrUnusable, dir)
	case syscall.ENOTDIR:
		return fmt.Errorf("%w: directory %s: a part of it is not a directory", ErrUnusable, dir)
	case syscall.EACCES, syscall.EPERM:
		return fmt.Errorf("%w: directory %s: permission denied (want a directory this user may create files in)", ErrUnusable, dir)
	case syscall.EROFS:
		return fmt.Errorf("%w: directory %s is on a read-only file system", ErrUnusable, dir)
	case syscall.ELOOP:
		return fmt.Errorf("%w: directory %s: too many levels of symlinks", ErrUnusable, dir)
	}
	return fmt.Errorf("create a file in directory %s: %w", dir, errno)
}

// resolve follows the symlinks at path and returns the first path that is
// not one (it may not exist).
func resolve(path string) (string, error) {
	p := path
	for range maxLinks {
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrUnusable, err)
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(p), link)
		}
		p = link
	}
	return "", fmt.Errorf("%w: %s: more than %d symlinks", ErrUnusable, path, maxLinks)
}

// replace writes fill's output to a new file next to target and renames
// it over target, giving it the mode and owner of old (the file it
// replaces) when there is one.
func replace(target string, fill func(io.Writer) error, old fs.FileInfo) error {
	f, err := createTemp(target)
	if err != nil {
		return dirErr(filepath.Dir(target), err)
	}
	tmp := f.Name()
	err = write(f, fill, old)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, target)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", target, err)
	}
	return nil
}

// write writes fill's output to the temporary file f, buffered, syncs it
// and gives it old's mode and owner.
func write(f *os.File, fill func(io.Writer) error, old fs.FileInfo) error {
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := fill(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if old == nil {
		return nil
	}
	if st, ok := old.Sys().(*syscall.Stat_t); ok && (int(st.Uid) != os.Geteuid() || int(st.Gid) != os.Getegid()) {
		_ = f.Chown(int(st.Uid), int(st.Gid)) // only a privileged process may; then the mode still applies
	}
	return f.Chmod(old.Mode().Perm())
}

// createTemp creates a new file of mode 0666 less the umask next to
// target (os.CreateTemp would make it 0600).
func createTemp(target string) (*os.File, error) {
	dir, base := filepath.Split(target)
	for {
		name := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
}

// inPlace writes fill's output into what is at target (a device, a FIFO),
// without replacing it.
func inPlace(target string, fill func(io.Writer) error) error {
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnusable, err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var pe *fs.PathError
	if err != nil && !(errors.As(err, &pe) && pe.Path == target) { // a PathError names target already
		return fmt.Errorf("write %s: %w", target, err)
	}
	return err
}
