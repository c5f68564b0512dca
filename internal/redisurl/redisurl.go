package redisurl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrInvalid is returned for a URL or an option that cannot be used.
var ErrInvalid = errors.New("redisurl: invalid Redis URL")

// ErrUnreachable is returned by Ping when Redis does not answer (refused,
// timed out, TLS or authentication failure).
var ErrUnreachable = errors.New("redisurl: Redis unreachable")

// ErrRejected is matched, besides ErrUnreachable, by a Ping error that
// retrying cannot fix: the server refused the credentials (WRONGPASS,
// NOAUTH, NOPERM) or the URL's database (DB index is out of range), or the
// TLS handshake failed on the certificate or the protocol.
var ErrRejected = errors.New("redisurl: Redis rejected the connection")

// ErrAuthFailed is matched, besides ErrUnreachable and ErrRejected, by a
// Ping error whose cause is the credentials: a wrong user name or password
// (WRONGPASS, ERR invalid password), or none given to a server that wants
// one (NOAUTH). Its message says "authentication failed", not
// "unreachable".
var ErrAuthFailed = errors.New("redisurl: authentication failed")

// redacted replaces a secret in URLs and errors.
const redacted = "xxxxx"

// Options completes a URL with what a URL cannot say well.
type Options struct {
	// CAFile is a PEM file of CA certificates to trust for rediss URLs
	// (instead of the system's roots), for servers with a private CA.
	// Default: the system's roots.
	CAFile string
	// SentinelMaster, when set, reads the URL's addresses as Sentinels
	// and connects to the master they name so. Default: none (the URL's
	// scheme decides).
	SentinelMaster string
	// ClientName is sent with CLIENT SETNAME on each connection. Default:
	// none.
	ClientName string
}

// Mode says what kind of deployment a URL names.
type Mode string

// The modes.
const (
	// ModeSingle is one server (or a Unix socket).
	ModeSingle Mode = "single"
	// ModeCluster is a Redis Cluster.
	ModeCluster Mode = "cluster"
	// ModeSentinel is a master found through Sentinels.
	ModeSentinel Mode = "sentinel"
)

// Target is a parsed URL, ready to build a client.
type Target struct {
	// Mode is the kind of deployment.
	Mode Mode
	// Addrs are the addresses of the URL (seed nodes, Sentinels, or the
	// one server).
	Addrs []string
	// TLS reports a rediss URL.
	TLS bool
	// Redacted is the URL with its secrets replaced, for logs.
	Redacted string

	single   *redis.Options
	cluster  *redis.ClusterOptions
	failover *redis.FailoverOptions
}

// Parse parses raw into a Target, or returns an error wrapping ErrInvalid
// that names what is wrong. The user-info is split off first (see
// splitUserinfo), so the URL parsers never see the password and no error
// can show any of it; the query's sentinel_password is scrubbed.
func Parse(raw string, opts Options) (*Target, error) {
	raw = strings.TrimSpace(raw)
	bare, ui, shown, err := splitUserinfo(raw)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %s", ErrInvalid, shown, err)
	}
	t, err := parse(bare, opts)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %s", ErrInvalid, shown, scrub(err.Error(), querySecrets(bare)))
	}
	t.setUserinfo(ui)
	t.Redacted = shown
	return t, nil
}

// userinfo is the user name and password of a URL, percent-decoded.
type userinfo struct {
	user, password string
}

// splitUserinfo splits raw ("scheme://[user[:password]@]rest") into the
// URL without its user-info (bare), the decoded user-info, and the URL to
// show in logs and errors (shown: the password, the whole user-info when
// its user name holds an '@' (an '@' that does not end the user-info:
// "app@Secret9@host" is likely a password typed without its user), and
// the query's sentinel_password replaced by "xxxxx"). The user-info ends
// at the last '@'. One holding
// '/', '?' or '#' (a password that needs percent-encoding, or an '@' after
// the host) is refused, as is one that is not valid percent-encoding: its
// error, like shown, holds none of it.
func splitUserinfo(raw string) (bare string, ui userinfo, shown string, err error) {
	if raw == "" {
		return "", ui, "", nil // parse says it is empty
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !validScheme(scheme) {
		// Not a URL: hide what could be a user-info.
		shown = raw
		if at := strings.LastIndex(raw, "@"); at >= 0 {
			shown = redacted + raw[at:]
		}
		return "", ui, redactParam(shown, "sentinel_password"), errors.New(noScheme)
	}
	prefix := scheme + "://"
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw, ui, redactParam(raw, "sentinel_password"), nil
	}
	info, host := rest[:at], rest[at+1:]
	bare = prefix + host
	if strings.ContainsAny(info, "/?#") {
		return "", ui, redactParam(prefix+redacted+"@"+host, "sentinel_password"),
			errors.New("the user-info holds '/', '?' or '#', or an '@' follows the host (want user:password@host with '/', '?', '#' and '@' in the password percent-encoded as %2F, %3F, %23 and %40)")
	}
	userRaw, passRaw, hasPass := strings.Cut(info, ":")
	hidden := strings.Contains(userRaw, "@")
	switch {
	case hidden:
		// "app@Secret9@host": most likely a password typed without its
		// user (or after an unencoded '@'); the user name is not shown.
		shown = prefix + redacted + "@" + host
	case hasPass:
		shown = prefix + userRaw + ":" + redacted + "@" + host
	default:
		shown = prefix + userRaw + "@" + host
	}
	shown = redactParam(shown, "sentinel_password")
	if hidden {
		// Say nothing of where the bad escape is: it would tell a ':'
		// from an '@'.
		u, uerr := url.PathUnescape(userRaw)
		p, perr := url.PathUnescape(passRaw)
		if uerr != nil || perr != nil {
			return "", ui, shown, errors.New("the user-info is not valid percent-encoding (want '%' followed by two hex digits, '%' itself as %25)")
		}
		ui.user, ui.password = u, p
		return bare, ui, shown, nil
	}
	if ui.user, err = url.PathUnescape(userRaw); err != nil {
		return "", ui, shown, errors.New("the user name is not valid percent-encoding (want '%' followed by two hex digits, '%' itself as %25)")
	}
	if ui.password, err = url.PathUnescape(passRaw); err != nil {
		return "", ui, shown, errors.New("the password is not valid percent-encoding (want '%' followed by two hex digits, '%' itself as %25)")
	}
	return bare, ui, shown, nil
}

// noScheme is the error of a URL without a scheme.
const noScheme = "no scheme (want redis://host:port, rediss://, redis+cluster://, redis+sentinel:// or unix://)"

// validScheme reports whether s has the syntax of a URL scheme: a letter,
// then letters, digits, '+', '-' and '.'.
func validScheme(s string) bool {
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return s != ""
}

// setUserinfo gives t's options the URL's user and password: those of the
// server, of every node of a cluster, or of the master found through
// Sentinels.
func (t *Target) setUserinfo(ui userinfo) {
	switch t.Mode {
	case ModeCluster:
		t.cluster.Username, t.cluster.Password = ui.user, ui.password
	case ModeSentinel:
		t.failover.Username, t.failover.Password = ui.user, ui.password
	default:
		t.single.Username, t.single.Password = ui.user, ui.password
	}
}

func parse(raw string, opts Options) (*Target, error) {
	if raw == "" {
		return nil, errors.New("empty (want redis://host:port, rediss://, redis+cluster://, redis+sentinel:// or unix://)")
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, errors.New(noScheme)
	}
	scheme = strings.ToLower(scheme)
	base, variant, _ := strings.Cut(scheme, "+")
	if base != "redis" && base != "rediss" && base != "unix" {
		return nil, fmt.Errorf("scheme %q (want redis, rediss, redis+cluster, rediss+cluster, redis+sentinel, rediss+sentinel or unix)", scheme)
	}
	if base == "unix" && variant != "" {
		return nil, fmt.Errorf("scheme %q (unix sockets take no +%s)", scheme, variant)
	}
	if variant != "" && variant != "cluster" && variant != "sentinel" {
		return nil, fmt.Errorf("scheme %q (want +cluster or +sentinel after %s)", scheme, base)
	}
	if opts.SentinelMaster != "" {
		if variant == "cluster" || base == "unix" {
			return nil, fmt.Errorf("a Sentinel master name cannot go with a %s URL", scheme)
		}
		variant = "sentinel"
	}
	if err := checkQuery(rest); err != nil {
		return nil, err
	}
	if strings.Contains(rest, "#") {
		// net/url and go-redis drop a fragment without a word.
		return nil, errors.New("it has a fragment ('#' and what follows), which a Redis URL does not use (want none; a '#' in the password is written %23)")
	}
	if opts.CAFile != "" && base != "rediss" {
		return nil, fmt.Errorf("a CA file is given but the URL is %s, not TLS (want rediss://)", scheme)
	}
	t := &Target{TLS: base == "rediss"}
	var err error
	switch {
	case base == "unix":
		t.Mode = ModeSingle
		t.single, err = redis.ParseURL(raw)
		if err == nil {
			t.Addrs = []string{t.single.Addr}
		}
	case variant == "sentinel":
		t.Mode = ModeSentinel
		t.failover, err = parseSentinel(base, rest, opts.SentinelMaster)
		if err == nil {
			t.Addrs = t.failover.SentinelAddrs
		}
	default:
		var hosts []string
		var tail string
		hosts, tail, err = splitHosts(rest)
		if err != nil {
			return nil, err
		}
		u, perr := url.Parse(base + "://" + hosts[0] + tail)
		if perr != nil {
			return nil, urlErr(perr)
		}
		if variant == "cluster" || len(hosts) > 1 || u.Query().Has("addr") {
			t.Mode = ModeCluster
			q := u.Query()
			for _, h := range hosts[1:] {
				q.Add("addr", h)
			}
			if u.Path != "" && u.Path != "/" && u.Path != "/0" {
				return nil, fmt.Errorf("database %q: a Redis Cluster has only database 0", strings.TrimPrefix(u.Path, "/"))
			}
			u.Path = ""
			u.RawQuery = q.Encode()
			t.cluster, err = redis.ParseClusterURL(u.String())
			if err == nil {
				t.Addrs = t.cluster.Addrs
			}
		} else {
			t.Mode = ModeSingle
			if path := strings.Trim(u.Path, "/"); path != "" && u.Query().Has("db") {
				// go-redis takes db= over the path without a word.
				return nil, fmt.Errorf("the database is given twice, as /%s and db=%s (want one of them)", path, u.Query().Get("db"))
			}
			t.single, err = redis.ParseURL(u.String())
			if err == nil {
				t.Addrs = []string{t.single.Addr}
			}
		}
	}
	if err != nil {
		return nil, urlErr(err)
	}
	if base != "unix" {
		for _, addr := range t.Addrs {
			if err := checkPort(addr); err != nil {
				return nil, err
			}
		}
	}
	if db := t.db(); db < 0 {
		return nil, fmt.Errorf("database %q (want 0 or more, below the server's number of databases)", strconv.Itoa(db))
	}
	if err := t.configure(opts); err != nil {
		return nil, err
	}
	return t, nil
}

// checkPort checks that addr ("host:port") has a port from 1 to 65535:
// go-redis accepts any number, and a dial to port 99999 fails like an
// unreachable server, retried until --redis-wait gives up.
func checkPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q (want host:port)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q of address %q (want a number from 1 to 65535)", port, addr)
	}
	return nil
}

// splitHosts splits the authority of rest (after the scheme) into its
// comma-separated hosts, keeping the user info on the first one, and returns
// the remainder (path and query).
func splitHosts(rest string) (hosts []string, tail string, err error) {
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo := ""
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, authority = authority[:at+1], authority[at+1:]
	}
	for i, h := range strings.Split(authority, ",") {
		h = strings.TrimSpace(h)
		if h == "" && (i > 0 || strings.Contains(authority, ",")) {
			return nil, "", fmt.Errorf("empty address in host list %q", authority)
		}
		// go-redis would read "host:" as the default port 6379: an unset
		// variable in "host:$PORT" must not reach another Redis.
		if _, port, perr := net.SplitHostPort(h); perr == nil && port == "" {
			return nil, "", fmt.Errorf("port \"\" of address %q (want a number from 1 to 65535, or no ':' for the default 6379)", h)
		}
		hosts = append(hosts, h)
	}
	hosts[0] = userinfo + hosts[0]
	return hosts, tail, nil
}

// parseSentinel parses the part after "redis+sentinel://":
// [user:password@]s1:port[,s2:port]/master[/db][?options].
func parseSentinel(base, rest, master string) (*redis.FailoverOptions, error) {
	hosts, tail, err := splitHosts(rest)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(base + "://" + hosts[0] + tail)
	if err != nil {
		return nil, urlErr(err)
	}
	parts := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
	db := ""
	switch {
	case master != "" && len(parts) <= 1:
		if len(parts) == 1 {
			db = parts[0]
		}
	case master == "" && (len(parts) == 1 || len(parts) == 2):
		master = parts[0]
		if len(parts) == 2 {
			db = parts[1]
		}
	default:
		return nil, fmt.Errorf("path %q (want /<master name>[/<db>] for Sentinel, or only /<db> when the master name is given apart)", u.Path)
	}
	q := u.Query()
	sentinelUser, sentinelPass := q.Get("sentinel_username"), q.Get("sentinel_password")
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	q.Set("master_name", master)
	u.RawQuery = q.Encode()
	u.Path = "/" + db
	if db == "" {
		u.Path = ""
	}
	o, err := redis.ParseFailoverURL(u.String())
	if err != nil {
		return nil, err
	}
	// The URL's user-info is the master's (setUserinfo); the Sentinels'
	// credentials come apart, in the query.
	o.SentinelUsername, o.SentinelPassword = sentinelUser, sentinelPass
	if master == "" {
		return nil, errors.New("no master name (want redis+sentinel://host:26379/<master name>)")
	}
	return o, nil
}

// db is the database number of t's options (0 for a cluster).
func (t *Target) db() int {
	switch t.Mode {
	case ModeSingle:
		return t.single.DB
	case ModeSentinel:
		return t.failover.DB
	}
	return 0
}

// maxCAFile is the largest CA file read: a system bundle of every public CA
// is about 220 KB, and a path such as /dev/zero would otherwise be read
// until memory runs out.
const maxCAFile = 1 << 20

// readCAFile reads the CA file at path, at most maxCAFile bytes. A pipe
// (a shell's process substitution, <(...)) is read as a file is.
func readCAFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	defer f.Close()
	pem, err := io.ReadAll(io.LimitReader(f, maxCAFile+1))
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	if len(pem) > maxCAFile {
		return nil, fmt.Errorf("CA file %s is over %d bytes (want a PEM file of the CA certificates that sign the server's)", path, maxCAFile)
	}
	return pem, nil
}

// configure applies what every client of fanin needs: honoured context
// deadlines, the client name, the CA file.
func (t *Target) configure(opts Options) error {
	var roots *x509.CertPool
	if opts.CAFile != "" {
		pem, err := readCAFile(opts.CAFile)
		if err != nil {
			return err
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("CA file %s holds no PEM certificate", opts.CAFile)
		}
	}
	setTLS := func(c *tls.Config) *tls.Config {
		if c != nil && roots != nil {
			c.RootCAs = roots
		}
		return c
	}
	switch t.Mode {
	case ModeSingle:
		t.single.ContextTimeoutEnabled = true
		t.single.TLSConfig = setTLS(t.single.TLSConfig)
		if t.single.TLSConfig != nil {
			d := newTLSDialer(t.single.TLSConfig, func() time.Duration { return t.single.DialTimeout })
			t.single.Dialer, t.single.DialerRetryBackoff = d.dial, d.backoff
		}
		if opts.ClientName != "" {
			t.single.ClientName = opts.ClientName
		}
	case ModeCluster:
		t.cluster.ContextTimeoutEnabled = true
		t.cluster.TLSConfig = setTLS(t.cluster.TLSConfig)
		if t.cluster.TLSConfig != nil {
			d := newTLSDialer(t.cluster.TLSConfig, func() time.Duration { return t.cluster.DialTimeout })
			t.cluster.Dialer, t.cluster.DialerRetryBackoff = d.dial, d.backoff
		}
		if opts.ClientName != "" {
			t.cluster.ClientName = opts.ClientName
		}
	case ModeSentinel:
		t.failover.ContextTimeoutEnabled = true
		t.failover.TLSConfig = setTLS(t.failover.TLSConfig)
		if t.failover.TLSConfig != nil {
			d := newTLSDialer(t.failover.TLSConfig, func() time.Duration { return t.failover.DialTimeout })
			t.failover.Dialer, t.failover.DialerRetryBackoff = d.dial, d.backoff
		}
		if opts.ClientName != "" {
			t.failover.ClientName = opts.ClientName
		}
	}
	return nil
}

// defaultDialTimeout is go-redis's dial timeout when the URL sets none.
const defaultDialTimeout = 5 * time.Second

// tlsDialer is the dialer of a rediss URL: a TCP dial then the TLS
// handshake with cfg, both within the dial timeout (read at each dial: the
// URL's dial_timeout, else 5 s) and the caller's context, as go-redis's own
// dialer does but with the context honoured. A handshake that times out,
// ends (EOF, reset) or reads something else than TLS fails with a
// *notTLSError, which says the server may not speak TLS.
//
// go-redis's pool retries a failed dial (DialerRetries, 5, 100 ms apart):
// for notTLSRecall after such a failure, a dial to the same address returns
// it again at once, without dialing or waiting between the attempts, so
// that a plain server fails the command within one dial timeout, not five.
type tlsDialer struct {
	cfg     *tls.Config
	timeout func() time.Duration // the options' DialTimeout

	mu     sync.Mutex
	recent map[string]notTLSFailure // by address
}

// notTLSFailure is a handshake that failed with a *notTLSError, and when.
type notTLSFailure struct {
	at  time.Time
	err error
}

// notTLSRecall is how long tlsDialer answers a dial to an address whose
// TLS handshake failed as a plain server's does with that failure, without
// dialing: longer than go-redis's pool takes to retry a failed dial,
// shorter than any retry of fanin's own.
const notTLSRecall = time.Second

// newTLSDialer returns the dialer of cfg; timeout reads the dial timeout.
func newTLSDialer(cfg *tls.Config, timeout func() time.Duration) *tlsDialer {
	return &tlsDialer{cfg: cfg, timeout: timeout, recent: map[string]notTLSFailure{}}
}

// failed returns the failure of addr's handshake within notTLSRecall ("" :
// of any address), if any.
func (d *tlsDialer) failed(addr string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for a, f := range d.recent {
		if time.Since(f.at) >= notTLSRecall {
			delete(d.recent, a)
		} else if addr == "" || a == addr {
			return f.err
		}
	}
	return nil
}

// backoff is the pool's wait between two dials (DialerRetryBackoff): none
// after a handshake failed as a plain server's, else go-redis's 100 ms.
func (d *tlsDialer) backoff(int) time.Duration {
	if d.failed("") != nil {
		return 0
	}
	return 100 * time.Millisecond
}

// dial dials addr and runs the TLS handshake (Options.Dialer).
func (d *tlsDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := d.failed(addr); err != nil {
		return nil, err
	}
	timeout := d.timeout()
	if timeout <= 0 {
		timeout = defaultDialTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	conn, err := (&net.Dialer{KeepAlive: 5 * time.Minute}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c := d.cfg
	if c.ServerName == "" { // as tls.Dial: the host of addr
		c = c.Clone()
		if host, _, err := net.SplitHostPort(addr); err == nil {
			c.ServerName = host
		} else {
			c.ServerName = addr
		}
	}
	tc := tls.Client(conn, c)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		err = handshakeErr(addr, err, time.Since(start))
		var nt *notTLSError
		if errors.As(err, &nt) {
			d.mu.Lock()
			d.recent[addr] = notTLSFailure{time.Now(), err}
			d.mu.Unlock()
		}
		return nil, err
	}
	return tc, nil
}

// handshakeErr explains a TLS handshake with addr that failed after
// took: one that timed out, ended or read something else than TLS becomes
// a *notTLSError; any other (a certificate not trusted) is returned as it
// is.
func handshakeErr(addr string, err error, took time.Duration) error {
	var rh tls.RecordHeaderError
	var ne net.Error
	switch {
	case errors.As(err, &rh):
		return &notTLSError{addr: addr, cause: err.Error(), definite: true}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &notTLSError{addr: addr, cause: fmt.Sprintf("no TLS answer in %v (the dial timeout is the URL's dial_timeout, 5s by default)", took.Round(100*time.Millisecond))}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return &notTLSError{addr: addr, cause: "the server closed the connection: " + err.Error()}
	}
	return err
}

// notTLSError is a TLS handshake that failed as it does with a server that
// does not speak TLS. It wraps nothing, so that go-redis does not retry the
// command (it would a timeout or an EOF): the command fails at once, with
// the hint. definite marks a server that answered something else than TLS:
// retrying cannot help (ErrRejected).
type notTLSError struct {
	addr, cause string
	definite    bool
}

func (e *notTLSError) Error() string {
	return fmt.Sprintf("TLS handshake with %s failed: %s; the server may not speak TLS (for a plain server, use redis:// instead of rediss://)", e.addr, e.cause)
}

// Client returns a new client for t; close it when done.
func (t *Target) Client() redis.UniversalClient {
	switch t.Mode {
	case ModeCluster:
		return redis.NewClusterClient(t.cluster)
	case ModeSentinel:
		return redis.NewFailoverClient(t.failover)
	}
	return redis.NewClient(t.single)
}

// NewClient parses raw and returns a client for it; see Parse.
func NewClient(raw string, opts Options) (redis.UniversalClient, *Target, error) {
	t, err := Parse(raw, opts)
	if err != nil {
		return nil, nil, err
	}
	return t.Client(), t, nil
}

// Ping checks that client answers within ctx. Its error wraps
// ErrUnreachable, names the redacted URL and never holds a password.
func Ping(ctx context.Context, client redis.UniversalClient, t *Target) error {
	err := client.Ping(ctx).Err()
	if err == nil {
		return nil
	}
	what := "Redis"
	if t != nil {
		what = fmt.Sprintf("Redis at %s (%s)", t.Redacted, t.Mode)
	}
	cause := scrub(err.Error(), t.secrets())
	if authFailed(err) {
		return &pingError{msg: fmt.Sprintf("%v: %s refused the user name or password of the URL: %s", ErrAuthFailed, what, cause), rejected: true, auth: true}
	}
	msg := fmt.Sprintf("%v: %s: %s", ErrUnreachable, what, cause)
	if strings.Contains(err.Error(), dbOutOfRange) {
		msg += " (the URL's database is beyond the server's number of databases, its 'databases' setting)"
	}
	return &pingError{msg: msg, rejected: rejected(err)}
}

// authFailed reports a refusal of the credentials.
func authFailed(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	for _, p := range []string{"WRONGPASS", "NOAUTH", "ERR AUTH", "ERR invalid password", "ERR Client sent AUTH"} {
		if strings.HasPrefix(re.Error(), p) {
			return true
		}
	}
	return false
}

// pingError is Ping's error: it matches ErrUnreachable, and ErrRejected
// when retrying cannot help. It holds only the scrubbed message.
type pingError struct {
	msg      string
	rejected bool
	auth     bool
}

func (e *pingError) Error() string { return e.msg }

// Is matches ErrUnreachable (the class of exit code 4), ErrRejected for a
// rejection, and ErrAuthFailed for refused credentials.
func (e *pingError) Is(target error) bool {
	return target == ErrUnreachable || (e.rejected && target == ErrRejected) || (e.auth && target == ErrAuthFailed)
}

// dbOutOfRange is Redis's error to a SELECT of a database it does not have.
const dbOutOfRange = "DB index is out of range"

// rejected reports an authentication, permission or TLS failure, or a
// database the server does not have.
func rejected(err error) bool {
	var cv *tls.CertificateVerificationError
	var rh tls.RecordHeaderError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var nt *notTLSError
	if errors.As(err, &cv) || errors.As(err, &rh) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) ||
		errors.As(err, &nt) && nt.definite {
		return true
	}
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := re.Error()
	for _, p := range []string{"WRONGPASS", "NOAUTH", "NOPERM", "ERR AUTH", "ERR invalid password", "ERR " + dbOutOfRange} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// secrets returns the passwords of t's options.
func (t *Target) secrets() []string {
	if t == nil {
		return nil
	}
	switch {
	case t.single != nil:
		return []string{t.single.Password}
	case t.cluster != nil:
		return []string{t.cluster.Password}
	case t.failover != nil:
		return []string{t.failover.Password, t.failover.SentinelPassword}
	}
	return nil
}

// checkQuery refuses a URL whose query (in rest, the URL after "://") has a
// pair that net/url cannot read (a '%' not followed by two hex digits, or a
// ';'): net/url, and go-redis after it, drop such a pair without a word, so
// a mistyped option would be ignored. The error names the parameter, never
// its value, which may be a password.
func checkQuery(rest string) error {
	_, query, ok := strings.Cut(rest, "?")
	if !ok {
		return nil
	}
	query, _, _ = strings.Cut(query, "#")
	for i, pair := range strings.Split(query, "&") {
		if _, err := url.ParseQuery(pair); err == nil {
			continue
		}
		key, _, _ := strings.Cut(pair, "=")
		const want = "(want name=value pairs separated by '&', each '%' followed by two hex digits)"
		if name, err := url.QueryUnescape(key); err == nil && !strings.Contains(name, ";") {
			return fmt.Errorf("query parameter %q cannot be read %s", name, want)
		}
		return fmt.Errorf("query parameter %d cannot be read %s", i+1, want)
	}
	return nil
}

// urlErr drops the URL net/url puts in its errors (it holds the password).
func urlErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Redact returns raw as Parse shows it: its password and
// sentinel_password replaced by "xxxxx", and, when its user-info holds '/',
// '?' or '#', the whole user-info. It works on malformed URLs too.
func Redact(raw string) string {
	_, _, shown, _ := splitUserinfo(raw)
	return shown
}

// redactParam replaces the value of query parameter name in s.
func redactParam(s, name string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, name+"=")
		if i < 0 || (i > 0 && s[i-1] != '?' && s[i-1] != '&') {
			if i < 0 {
				b.WriteString(s)
				return b.String()
			}
			b.WriteString(s[:i+len(name)+1])
			s = s[i+len(name)+1:]
			continue
		}
		b.WriteString(s[:i+len(name)+1])
		s = s[i+len(name)+1:]
		end := strings.IndexAny(s, "&#")
		if end < 0 {
			end = len(s)
		}
		b.WriteString(redacted)
		s = s[end:]
	}
}

// querySecrets returns the sentinel_password values found in raw, raw and
// unescaped, without parsing it.
func querySecrets(raw string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == '?' || r == '&' }) {
		v, ok := strings.CutPrefix(part, "sentinel_password=")
		if !ok || v == "" {
			continue
		}
		out = append(out, v)
		if u, err := url.QueryUnescape(v); err == nil && u != v {
			out = append(out, u)
		}
	}
	return out
}

// scrub replaces every secret in msg.
func scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		if len(s) > 0 {
			msg = strings.ReplaceAll(msg, s, redacted)
		}
	}
	return msg
}
