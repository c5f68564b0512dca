// Package outfile writes the output file of a command (--out) without
// damaging what is at its path: a regular file is replaced atomically and
// keeps its mode, a new file honours the umask, a symlink is followed, and
// anything else (a device such as /dev/null, a FIFO) is written in place,
// never replaced by a regular file.
package outfile
