package dashboard

import (
	"embed"
	"net/http"
	"strings"
)

// assets are the files served under /assets/.
//
//go:embed assets
var assets embed.FS

// index is the page.
//
//go:embed assets/index.html
var index []byte

// Handler serves the dashboard: the files of assets/ under /assets/ (no
// directory listing), and the page for any other path.
func Handler() http.Handler {
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/assets/") {
			if strings.HasSuffix(r.URL.Path, "/") {
				http.NotFound(w, r)
				return
			}
			files.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(index)
	})
}
