package outfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// ErrUnusable is returned, wrapped, for a path that cannot take the output:
// a directory, a missing directory, a path without write permission, a
// loop of symlinks.
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
// Errors about the path wrap ErrUnusable; others are I/O errors.
func Write(path string, data []byte) error {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return replace(target, data, nil)
	case err != nil:
		return fmt.Errorf("%w: %w", ErrUnusable, err)
	case fi.IsDir():
		return fmt.Errorf("%w: %s is a directory (want a file)", ErrUnusable, path)
	case fi.Mode().IsRegular():
		return replace(target, data, fi)
	}
	return inPlace(target, data)
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

// replace writes data to a new file next to target and renames it over
// target, giving it the mode and owner of old (the file it replaces) when
// there is one.
func replace(target string, data []byte, old fs.FileInfo) error {
	f, err := createTemp(target)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnusable, err)
	}
	tmp := f.Name()
	err = write(f, data, old)
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

// write writes data to the temporary file f, syncs it and gives it old's
// mode and owner.
func write(f *os.File, data []byte, old fs.FileInfo) error {
	if _, err := f.Write(data); err != nil {
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

// inPlace writes data into what is at target (a device, a FIFO), without
// replacing it.
func inPlace(target string, data []byte) error {
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnusable, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", target, err)
	}
	return nil
}
