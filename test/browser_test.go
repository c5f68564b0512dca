package test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fanin-dev/fanin/internal/redistest"
)

// chromium returns the path of a Chromium to drive: FANIN_CHROMIUM, or
// chromium (Debian's package) or another name of it on PATH. Without one
// the test fails, saying how to get it: never a silent skip.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FANIN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the dashboard's browser test needs Chromium: run scripts/ensure-chromium (make test does), " +
		"or apt-get install chromium, or set FANIN_CHROMIUM to a Chromium or Chrome binary")
	return ""
}

// browser starts a headless Chromium with a fresh profile, on a closed
// network (nothing is fetched but the pages under test), and returns a
// context for chromedp.Run; it stops with the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", chromium(t), err)
	}
	return ctx
}

// run runs browser actions with a time limit, failing the test on error.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Steps(actions...)); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// text returns the text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

// screenshot saves the page as name in FANIN_SCREENSHOTS (default: a
// directory fanin-dashboard-screenshots in TMPDIR) and logs where.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("FANIN_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "fanin-dashboard-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// TestDashboardInChromium drives the dashboard in a real headless Chromium
// against `coordinator serve --run`, a worker and a real Redis: it opens
// the jobs list, submits a job with the form, sees the job's page progress
// to done with the right counts and a throughput chart, cancels another
// job with its button (confirming in the dialog) and sees it cancelled,
// checks the list and the layout at 1280×800 and on a phone-sized window,
// saves screenshots, and gives a server with a token its token once.
func TestDashboardInChromium(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	_, base := serve(t, e, "--run", "--sweep-interval", "1s", "--reducer", "slow.echo=count")
	// Each event takes 15 ms in one of two shell co-processes: a job of
	// 300 events runs for about 2 s, long enough for the page to follow it.
	start(t, e, "worker", "--concurrency", "2", "--exec-procs", "2",
		"--exec", `slow.echo=while read -r line; do sleep 0.015; echo "{\"output\":$line}"; done`)

	const n = 300
	var events strings.Builder
	for i := range n {
		fmt.Fprintf(&events, "{\"id\":\"ev%03d\",\"n\":%d}\n", i, i)
	}

	// Submit with the form of the jobs list.
	run(t, ctx, "open the jobs list and fill the form",
		chromedp.Navigate(base),
		chromedp.WaitVisible("#jobs-table"),
		chromedp.Click("#new-job"),
		chromedp.WaitVisible("#submit-form"),
		chromedp.SendKeys(`input[name="kind"]`, "slow.echo"),
		chromedp.SendKeys(`input[name="name"]`, "from the browser"),
		chromedp.SetValue(`textarea[name="events"]`, events.String()),
		// Workers write outputs a chunk at a time: chunks of 10 events
		// let the page see the job progress.
		chromedp.Click("#submit-form details summary"),
		chromedp.SendKeys(`input[name="chunk"]`, "10"),
		chromedp.Click("#submit-btn"),
		chromedp.WaitVisible("#job-state"),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	job := strings.TrimPrefix(loc, base+"jobs/")
	if len(job) != 36 {
		t.Fatalf("after the submission the page is %s, want a job's page", loc)
	}
	run(t, ctx, "follow the job to its end", chromedp.WaitVisible("#job-state.done"), chromedp.WaitVisible("#result-download"))
	for sel, want := range map[string]string{"#count-done": "300", "#count-failed": "0", "#count-total": "300", "#count-pending": "0", "#job-state": "done", "h1": "from the browser"} {
		if got := text(t, ctx, sel); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if got := text(t, ctx, "#result-preview"); got != `{"outputs":300,"failed":0,"missing":0}` {
		t.Errorf("result preview = %q", got)
	}
	// The chart drew the throughput from live samples.
	if samples := eval[int](t, ctx, `Number(document.querySelector('#chart').dataset.samples || 0)`); samples < 3 {
		t.Errorf("the chart has %d live samples of a job that ran for seconds", samples)
	}
	if code, b := httpDo(t, "GET", base+"api/v1/jobs/"+job, "", nil); code != 200 || !strings.Contains(string(b), `"state":"done"`) || !strings.Contains(string(b), `"done":300`) {
		t.Fatalf("the API says %d %s", code, b)
	}
	screenshot(t, ctx, "job-done.png")

	// Another job, of a kind no worker serves: it waits; cancel it with
	// the button, confirming in the dialog.
	code, b := httpDo(t, "POST", base+"api/v1/jobs?kind=nobody.serves&name=to+cancel", "", strings.NewReader(events.String()))
	if code != 201 {
		t.Fatalf("submit: %d %s", code, b)
	}
	var other struct{ ID string }
	_ = json.Unmarshal(b, &other)
	run(t, ctx, "open the waiting job",
		chromedp.Navigate(base+"jobs/"+other.ID),
		chromedp.WaitVisible("#job-state.running"),
		chromedp.Click(`button[data-action="cancel"]`),
		chromedp.WaitVisible("#modal-ok"),
	)
	if got := text(t, ctx, "#modal-title"); got != "Cancel this job?" {
		t.Errorf("the confirmation says %q", got)
	}
	// "Back" keeps the job.
	run(t, ctx, "step back from the confirmation", chromedp.Click("#modal-cancel"), chromedp.WaitNotVisible("#modal"))
	if code, b := httpDo(t, "GET", base+"api/v1/jobs/"+other.ID, "", nil); code != 200 || !strings.Contains(string(b), `"state":"running"`) {
		t.Fatalf("after Back the job is %s", b)
	}
	run(t, ctx, "cancel it",
		chromedp.Click(`button[data-action="cancel"]`),
		chromedp.WaitVisible("#modal-ok"),
		chromedp.Click("#modal-ok"),
		chromedp.WaitVisible("#job-state.cancelled"),
	)
	if code, b := httpDo(t, "GET", base+"api/v1/jobs/"+other.ID, "", nil); code != 200 || !strings.Contains(string(b), `"state":"cancelled"`) {
		t.Fatalf("after the cancel button the API says %s", b)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('button[data-action="cancel"]').length`); n != 0 {
		t.Errorf("a cancelled job still offers %d cancel buttons", n)
	}
	screenshot(t, ctx, "job-cancelled.png")

	// The list shows both, with their states, and filters them.
	run(t, ctx, "the list",
		chromedp.Navigate(base),
		chromedp.WaitVisible(`#jobs-table tr[data-id="`+job+`"][data-state="done"]`),
		chromedp.WaitVisible(`#jobs-table tr[data-id="`+other.ID+`"][data-state="cancelled"]`),
	)
	if got := text(t, ctx, `.chip[data-state="cancelled"] .n`); got != "1" {
		t.Errorf("the cancelled filter counts %q", got)
	}
	run(t, ctx, "filter the cancelled jobs",
		chromedp.Click(`.chip[data-state="cancelled"]`),
		chromedp.WaitNotPresent(`#jobs-table tr[data-id="`+job+`"]`),
		chromedp.WaitVisible(`#jobs-table tr[data-id="`+other.ID+`"]`),
		chromedp.Click(`.chip[data-state=""]`),
		chromedp.WaitVisible(`#jobs-table tr[data-id="`+job+`"]`),
	)
	screenshot(t, ctx, "jobs.png")

	// A phone-sized window: nothing wider than the screen.
	for _, page := range []string{base, base + "jobs/" + job} {
		run(t, ctx, "open "+page+" on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Navigate(page), chromedp.WaitVisible("main h1"))
		if w := eval[[]int](t, ctx, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
			t.Errorf("%s on a 390 px window is %d px wide", page, w[0])
		}
	}
	screenshot(t, ctx, "job-phone.png")

	// A server with a token: the dashboard asks for it once, then lists.
	const token = "browser-token-0123456789"
	_, secured := serve(t, env("FANIN_REDIS_URL="+srv.URL(), "FANIN_API_TOKEN="+token))
	run(t, ctx, "give the token",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(secured),
		chromedp.WaitVisible("#modal-input"),
		chromedp.SendKeys("#modal-input", token),
		chromedp.Click("#modal-ok"),
		chromedp.WaitVisible(`#jobs-table tr[data-id="`+job+`"]`),
		chromedp.Navigate(secured+"jobs/"+job),
		chromedp.WaitVisible("#job-state.done"),
	)
	if n := eval[int](t, ctx, `document.querySelectorAll('#modal:not([hidden])').length`); n != 0 {
		t.Errorf("the dashboard asked for the token again")
	}
}
