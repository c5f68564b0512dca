package settings_test

import (
	"errors"
	"io"
	"testing"

	"github.com/spf13/cobra"

	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/settings"
)

// TestExitCode runs real cobra command lines: cobra's own errors about the
// command line are usage errors, other errors keep their code.
func TestExitCode(t *testing.T) {
	t.Parallel()
	newRoot := func() *cobra.Command {
		root := &cobra.Command{Use: "root", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return nil }, SilenceErrors: true, SilenceUsage: true}
		leaf := &cobra.Command{Use: "leaf", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return nil }}
		one := &cobra.Command{Use: "one JOB", Args: cobra.ExactArgs(1), RunE: func(*cobra.Command, []string) error { return nil }}
		req := &cobra.Command{Use: "req", RunE: func(*cobra.Command, []string) error { return nil }}
		req.Flags().String("kind", "", "")
		_ = req.MarkFlagRequired("kind")
		root.AddCommand(leaf, one, req)
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		return root
	}
	lone := &cobra.Command{Use: "worker", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return nil }, SilenceErrors: true, SilenceUsage: true}
	lone.SetArgs([]string{"extra-arg"})
	if err := lone.Execute(); settings.ExitCode(err) != exitcode.Usage {
		t.Errorf("a command without subcommands given an argument: %v → %d, want %d", err, settings.ExitCode(err), exitcode.Usage)
	}
	for _, args := range [][]string{{"extra-arg"}, {"leaf", "extra-arg"}, {"one"}, {"one", "a", "b"}, {"req"}} {
		root := newRoot()
		root.SetArgs(args)
		err := root.Execute()
		if code := settings.ExitCode(err); code != exitcode.Usage {
			t.Errorf("%q: %v → %d, want %d", args, err, code, exitcode.Usage)
		}
	}
	for err, want := range map[error]int{
		nil:                         exitcode.OK,
		errors.New("job failed"):    exitcode.Failure,
		exitcode.With(5, io.EOF):    5,
		exitcode.With(3, io.EOF):    3,
		errors.New("queue is busy"): exitcode.Failure,
	} {
		if got := settings.ExitCode(err); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", err, got, want)
		}
	}
}
