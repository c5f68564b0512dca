package dashboard_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/fanin-dev/fanin/internal/httpapi/dashboard"
)

// The page answers any path; its assets are under /assets/.
func ExampleHandler() {
	h := dashboard.Handler()
	for _, path := range []string{"/", "/jobs/0b6c9a4e-4f40-4a8c-9d6e-2b8f1f0f4b1a", "/assets/app.js", "/assets/nothing.js", "/assets/"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, w.Code, w.Header().Get("Content-Type"))
	}
	// Output:
	// / 200 text/html; charset=utf-8
	// /jobs/0b6c9a4e-4f40-4a8c-9d6e-2b8f1f0f4b1a 200 text/html; charset=utf-8
	// /assets/app.js 200 text/javascript; charset=utf-8
	// /assets/nothing.js 404 text/plain; charset=utf-8
	// /assets/ 404 text/plain; charset=utf-8
}
