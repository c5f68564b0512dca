package exitcode

import (
	"regexp"
	"strings"
	"unicode"
)

// Message returns err's text for people, as the binaries print it: without
// the Go package prefixes of fanin's errors ("workoutput: ", "jobs: ") and
// with the names of configuration fields replaced by the flags that set
// them (Config.MaxEventSize: --max-event-size) or left out. See Humanize.
func Message(err error) string {
	if err == nil {
		return ""
	}
	return Humanize(err.Error())
}

// packagePrefix matches the prefix of a fanin package's error ("jobs: ") at
// the start of a message or of a wrapped part of it.
var packagePrefix = regexp.MustCompile(`(^|: |\(|; )(workoutput|jobs|execproc|locks|cache|rediscache|memorycache|hybridcache|settings|telemetry|redisurl|eventfile|outfile|progress|exitcode): `)

// flagOf maps the configuration fields a message may name to the flag that
// sets them in the binaries.
var flagOf = map[string]string{
	"Config.MaxEventSize":         "--max-event-size",
	"Config.MaxOutputSize":        "--max-output-size",
	"Config.ReplicaAcks":          "--replica-acks",
	"Config.ReplicaTimeout":       "--replica-timeout",
	"Config.Namespace":            "--namespace",
	"ProducerConfig.ReplicaWait":  "--replica-wait",
	"ProducerConfig.ChunkSize":    "--chunk",
	"CoordinatorConfig.LockTTL":   "--lock-ttl",
	"CoordinatorConfig.Sinks":     "--sink-dir",
	"Spec.EventTimeout":           "--event-timeout",
	"Spec.FailurePolicy":          "--policy",
	"Spec.Kind":                   "--kind",
	"MuxConfig.EventTimeout":      "--event-timeout",
	"CoordinatorConfig.Queue":     "--collect-queue",
	"ProducerConfig.Queue":        "--queue",
	"ProducerConfig.CollectQueue": "--collect-queue",
}

var (
	// configField matches a Go configuration field: Config.MaxEvents,
	// workoutput.Config.MaxEventSize, CoordinatorConfig.MaxResultSize.
	configField = regexp.MustCompile(`(?:[a-z]+\.)?((?:[A-Z][a-z]+)*(?:Config|Spec)\.[A-Z][A-Za-z]*)`)
	// asideField is a field named as an aside: ", Config.X)" or " (Config.X)".
	asideField = regexp.MustCompile(`(?:, | \()((?:[a-z]+\.)?(?:[A-Z][a-z]+)*(?:Config|Spec)\.[A-Z][A-Za-z]*)(\)?)`)
)

// Humanize rewrites a message for people (see Message).
func Humanize(msg string) string {
	for {
		next := packagePrefix.ReplaceAllString(msg, "$1")
		if next == msg {
			break
		}
		msg = next
	}
	// An aside naming a field with a flag names the flag; one without is
	// left out: "(want at most 10 per job, Config.MaxEvents)" reads "(want
	// at most 10 per job)".
	msg = asideField.ReplaceAllStringFunc(msg, func(m string) string {
		parts := asideField.FindStringSubmatch(m)
		field := configField.FindStringSubmatch(parts[1])[1]
		flag, ok := flagOf[field]
		switch {
		case ok && strings.HasPrefix(m, ", "):
			return ", " + flag + parts[2]
		case ok:
			return " (" + flag + parts[2]
		case strings.HasPrefix(m, " (") && parts[2] == ")":
			return ""
		}
		return parts[2]
	})
	// Elsewhere a field reads as its flag, or as words.
	return configField.ReplaceAllStringFunc(msg, func(m string) string {
		field := configField.FindStringSubmatch(m)[1]
		if flag, ok := flagOf[field]; ok {
			return flag
		}
		_, name, _ := strings.Cut(field, ".")
		return words(name)
	})
}

// words spells a Go field name in lower-case words: MaxResultSize → "max
// result size", LockTTL → "lock TTL".
func words(name string) string {
	var b strings.Builder
	r := []rune(name)
	for i, c := range r {
		upper := unicode.IsUpper(c)
		if i > 0 && upper && (!unicode.IsUpper(r[i-1]) || (i+1 < len(r) && unicode.IsLower(r[i+1]))) {
			b.WriteByte(' ')
		}
		if upper && i+1 < len(r) && unicode.IsLower(r[i+1]) {
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}
