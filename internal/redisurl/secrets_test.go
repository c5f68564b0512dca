package redisurl_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/internal/redisurl"
)

// urlSpecials are the printable ASCII characters other than letters and
// digits, a space, a tab and a newline.
const urlSpecials = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\t\n"

// TestPasswordsWithEveryURLSpecialCharacter: for each URL-special
// character, a password holding it twice, written raw in a URL, either
// connects (the characters a user-info may hold raw) or is refused without
// any part of it in the error ('/', '?', '#', and '%' not followed by two
// hex digits); percent-encoded, it always connects. One password holding
// every special character connects percent-encoded.
func TestPasswordsWithEveryURLSpecialCharacter(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	admin := srv.Client(t)
	ctx := context.Background()
	user := func(name, pw string) {
		t.Helper()
		if err := admin.Do(ctx, "ACL", "SETUSER", name, "reset", "on", ">"+pw, "~*", "+@all").Err(); err != nil {
			t.Fatal(err)
		}
	}
	connect := func(raw string) error {
		client, target, err := redisurl.NewClient(raw, redisurl.Options{})
		if err != nil {
			return err
		}
		defer client.Close()
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return redisurl.Ping(pctx, client, target)
	}
	for i, c := range urlSpecials {
		name := fmt.Sprintf("u%d", i)
		pw := "Ab3" + string(c) + "Zy9" + string(c) + "Qx7"
		user(name, pw)
		raw := "redis://" + name + ":" + pw + "@" + srv.Addr() + "/0"
		refused := strings.ContainsRune("/?#%", c)
		err := connect(raw)
		switch {
		case refused && !errors.Is(err, redisurl.ErrInvalid):
			t.Errorf("password with %q raw: %v; want ErrInvalid", c, err)
		case !refused && err != nil:
			t.Errorf("password with %q raw: %v; want a connection", c, err)
		}
		if err != nil {
			for _, piece := range []string{"Ab3", "Zy9", "Qx7"} {
				if strings.Contains(err.Error(), piece) {
					t.Errorf("password with %q raw: the error shows %q: %v", c, piece, err)
				}
			}
		}
		if target, perr := redisurl.Parse(raw, redisurl.Options{}); perr == nil && target.Redacted != "redis://"+name+":xxxxx@"+srv.Addr()+"/0" {
			t.Errorf("password with %q raw: redacted as %q", c, target.Redacted)
		}
		if err := connect("redis://" + name + ":" + url.PathEscape(pw) + "@" + srv.Addr() + "/0"); err != nil {
			t.Errorf("password with %q percent-encoded: %v", c, err)
		}
	}
	// Every special character at once: fully percent-encoded, or only the
	// four that must be.
	all := "Pw-" + urlSpecials + "-end"
	user("all", all)
	minimal := strings.NewReplacer("%", "%25", "/", "%2F", "?", "%3F", "#", "%23").Replace(all)
	for _, enc := range []string{url.PathEscape(all), minimal} {
		if err := connect("redis://all:" + enc + "@" + srv.Addr() + "/0"); err != nil {
			t.Errorf("every special character, encoded as %q: %v", enc, err)
		}
	}
}

// TestDatabaseOutOfRangeIsRejected: a database the server does not have is
// a rejection (not retried) saying so.
func TestDatabaseOutOfRangeIsRejected(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	client, target, err := redisurl.NewClient("redis://"+srv.Addr()+"/99", redisurl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	err = redisurl.Ping(context.Background(), client, target)
	if !errors.Is(err, redisurl.ErrRejected) || !errors.Is(err, redisurl.ErrUnreachable) || !strings.Contains(err.Error(), "DB index is out of range") || !strings.Contains(err.Error(), "'databases' setting") {
		t.Fatalf("Ping of database 99 = %v; want ErrRejected naming the database setting", err)
	}
}

// disguise returns pw with every byte but '%' replaced by another byte of
// the same role in a URL's user-info: '/', '?' and '#' among themselves
// (they end a user-info), '@' and ':' for each other (inside a password both
// are plain characters), hex digits among hex digits of their case (so
// percent-escapes stay valid or invalid), other letters among themselves,
// and every other byte by the next byte that is none of these. '%' is kept:
// it decides whether the password is valid percent-encoding.
func disguise(pw string) string {
	b := []byte(pw)
	for i, c := range b {
		b[i] = disguiseByte(c)
	}
	return string(b)
}

// disguiseByte is disguise for one byte.
func disguiseByte(c byte) byte {
	rotate := func(class string) (byte, bool) {
		if i := strings.IndexByte(class, c); i >= 0 {
			return class[(i+1)%len(class)], true
		}
		return 0, false
	}
	for _, class := range []string{"/?#", "@:", "0123456789", "abcdef", "ABCDEF", "ghijklmnopqrstuvwxyz", "GHIJKLMNOPQRSTUVWXYZ"} {
		if d, ok := rotate(class); ok {
			return d
		}
	}
	if c == '%' {
		return c
	}
	plain := func(x byte) bool {
		return !(x >= '0' && x <= '9' || x >= 'a' && x <= 'z' || x >= 'A' && x <= 'Z' || strings.IndexByte("%/?#@:", x) >= 0)
	}
	for d := c + 1; ; d++ {
		if plain(d) {
			return d
		}
	}
}

// seen is what a user sees of raw: Parse's error, or the log line a
// daemon writes of the Target, and Redact.
func seen(raw string) string {
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	target, err := redisurl.Parse(raw, redisurl.Options{})
	if err != nil {
		log.Error("invalid Redis URL", "err", err)
	} else {
		log.Info("worker started", "redis", target.Redacted, "mode", target.Mode, "addrs", target.Addrs)
	}
	return b.String() + redisurl.Redact(raw)
}

// FuzzParse checks that no byte of a URL's password (but '%', see
// disguise) ever appears in Parse's errors, in the log line of a Target, or
// in Redact: what a user sees of a URL is the same when every byte of its
// password is replaced by another of the same role. Every URL form is
// tried, with and without a scheme.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "pw", "Zx9/Qw8+base64pw==", "p@ss/w%rd", "a?b#c", "%41%2F", "%zz", ":", "@", "@@:", "a b\nc\t", "\x00\xff\xfe", "x://y", urlSpecials} {
		f.Add(s)
	}
	forms := []func(string) string{
		func(p string) string { return "redis://app:" + p + "@h:6379/0" },
		func(p string) string { return "rediss://:" + p + "@h1:1,h2:2?dial_timeout=1s" },
		func(p string) string { return "redis+cluster://app:" + p + "@h:1" },
		func(p string) string { return "redis+sentinel://app:" + p + "@s1:26379,s2:26379/mymaster/1" },
		func(p string) string { return "unix://app:" + p + "@/tmp/redis.sock?db=1" },
		func(p string) string { return "redis://app:" + p + "@h:notaport/0" },
		func(p string) string { return "redis://app:" + p + "@h:1/-1" },
		func(p string) string { return "http://app:" + p + "@h:1" },
		func(p string) string { return ":" + p + "@h:1" },                  // no scheme, whatever p holds
		func(p string) string { return "redis://app@" + p + "@h:6379/0" },  // a password after an '@', not a ':'
		func(p string) string { return "redis://app:" + p + "@h:99999/0" }, // a port out of range
	}
	f.Fuzz(func(t *testing.T, pw string) {
		other := disguise(pw)
		for _, form := range forms {
			if a, b := seen(form(pw)), seen(form(other)); a != b {
				t.Fatalf("what is seen of %q depends on its password's bytes:\n%s\nwith %q instead:\n%s", form(pw), a, other, b)
			}
		}
	})
}

// TestUserinfoWithAnAtIsNotShown: "app@Secret9" before the host is most
// likely a password typed without its user (or after an unencoded '@'):
// neither a Parse error nor the Target's redacted URL shows any of it.
func TestUserinfoWithAnAtIsNotShown(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"redis://app@Secret9@h:6379/0",
		"redis://app@Secret9@h:99999/0",
		"redis://app@Secret9@h:1/notadb",
		"rediss://app@Secret9@h1:1,h2:2",
		"redis+sentinel://app@Secret9@s1:26379/m",
		"redis://app@Secret9:more@h:1/0",
	} {
		shown := seen(raw)
		if strings.Contains(shown, "Secret9") || strings.Contains(shown, "app@") || !strings.Contains(shown, "xxxxx@") {
			t.Errorf("%s is seen as:\n%s\nwant the whole user-info replaced by xxxxx", strings.ReplaceAll(raw, "Secret9", "<secret>"), strings.ReplaceAll(shown, "Secret9", "<secret>"))
		}
	}
}
