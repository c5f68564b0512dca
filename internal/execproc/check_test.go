package execproc_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fanin-dev/fanin/internal/execproc"
)

// TestCheckCommand: the mistakes that would fail every event of a kind are
// found before any work arrives, with a message naming them; commands sh
// can run pass, and nothing of a command runs.
func TestCheckCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "handler.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncat\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExec := filepath.Join(dir, "plain.sh")
	if err := os.WriteFile(notExec, []byte("cat\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "ran")
	for _, tc := range []struct {
		command string
		want    string // "" for no error
	}{
		{"cat", ""},
		{script + " --flag", ""},
		{"sh " + notExec, ""},
		{"cd " + dir + " && cat", ""},       // a builtin
		{"exec cat", ""},                    // a special builtin
		{"X=1 cat", ""},                     // an assignment: not looked at
		{"'/no/such/program' arg", ""},      // quoted: not looked at
		{"$HOME/no/such/program", ""},       // expanded: not looked at
		{"touch " + marker + " && cat", ""}, // checked, not run
		{"   ", "the command is empty"},
		{"if then", "is not a valid sh command"},
		{"cat <<", "is not a valid sh command"},
		{"/no/such/program", "runs /no/such/program, which is not an executable file: no such file or directory"},
		{notExec + " arg", "which is not an executable file: permission denied"},
		{"/dev/null", "which is not an executable file"},
		{dir, "which is not an executable file"},
		{"no-such-program-fanin", "runs no-such-program-fanin, which sh does not find (not in PATH, nor a builtin)"},
	} {
		err := execproc.CheckCommand(context.Background(), tc.command)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckCommand(%q) = %v; want nil", tc.command, err)
		case tc.want != "" && (!errors.Is(err, execproc.ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckCommand(%q) = %v; want ErrInvalid saying %q", tc.command, err, tc.want)
		}
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CheckCommand ran the command it checked: %s exists (%v)", marker, err)
	}
}
