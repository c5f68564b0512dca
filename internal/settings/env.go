package settings

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"
)

// EnvOf gives every flag of fs an environment variable and returns the map
// FromEnv takes: the names of known (flag name → variable names, first
// set wins) for the flags it lists, "FANIN_" + prefix + the flag's name in
// upper case with '-' as '_' for the others (--exec-procs: FANIN_EXEC_PROCS;
// with prefix "RUN_", --sweep-interval: FANIN_RUN_SWEEP_INTERVAL). --help
// and --version have none. A flag whose usage does not name its variable
// gets " (env NAME)" appended, so --help shows every one. A list flag
// (--exec, --reducer) reads several values from its variable, one per
// line.
func EnvOf(fs *pflag.FlagSet, prefix string, known map[string][]string) map[string][]string {
	env := map[string][]string{}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" || f.Name == "version" {
			return
		}
		names := known[f.Name]
		if len(names) == 0 {
			names = []string{EnvName(prefix, f.Name)}
		}
		env[f.Name] = names
		if !strings.Contains(f.Usage, names[0]) {
			f.Usage += " (env " + strings.Join(names, " or ") + ")"
		}
	})
	return env
}

// EnvName is the environment variable EnvOf derives for flag under
// prefix.
func EnvName(prefix, flag string) string {
	return "FANIN_" + strings.ToUpper(strings.ReplaceAll(prefix+flag, "-", "_"))
}

// Merge returns the union of the flag → variable maps (the later wins).
func Merge(maps ...map[string][]string) map[string][]string {
	out := map[string][]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// Version describes the running binary for --version: its module version
// ("(devel)" for a build from a checkout), the commit it was built from
// when known (with "+changes" for a modified tree) and the Go version.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+changes"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += fmt.Sprintf(" commit %s%s", rev, modified)
	}
	return v + ", " + bi.GoVersion
}
