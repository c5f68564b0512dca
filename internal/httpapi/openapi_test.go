package httpapi

import (
	"encoding/json"
	"flag"
	"fmt"
	"mime"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The OpenAPI document is checked against the handlers in three ways:
//   - TestOpenAPIMatchesRoutes: its operations are exactly the routes the
//     server registers, with the same operationIds;
//   - every response the tests of this package get goes through
//     checkResponse: its status must be documented for its operation, its
//     content type listed, and its JSON body valid against the schema;
//   - TestMain, after a full run, fails if a documented status of an
//     operation was never answered by any test.

// doc is the parsed document.
var doc = func() map[string]any {
	var d map[string]any
	if err := json.Unmarshal(openAPI, &d); err != nil {
		panic(fmt.Sprintf("openapi.json: %v", err))
	}
	return d
}()

// seen records the (operationId, status) pairs the tests got.
var seen = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

func TestMain(m *testing.M) {
	code := m.Run()
	if f := flag.Lookup("test.run"); code == 0 && f != nil && f.Value.String() == "" && !testing.Short() {
		var unseen []string
		for path, item := range doc["paths"].(map[string]any) {
			for method, op := range item.(map[string]any) {
				for status := range op.(map[string]any)["responses"].(map[string]any) {
					key := op.(map[string]any)["operationId"].(string) + " " + status
					if status != "default" && !seen.m[key] {
						unseen = append(unseen, fmt.Sprintf("%s (%s %s)", key, strings.ToUpper(method), path))
					}
				}
			}
		}
		if len(unseen) > 0 {
			sort.Strings(unseen)
			fmt.Fprintf(os.Stderr, "FAIL: documented responses that no test got (test them, or remove them from openapi.json):\n  %s\n", strings.Join(unseen, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

// TestOpenAPIMatchesRoutes: the document's operations are the server's
// routes, and the server routes each documented path to it.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	documented := map[string]string{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			documented[strings.ToUpper(method)+" "+path] = op.(map[string]any)["operationId"].(string)
		}
	}
	registered := map[string]string{}
	for _, rt := range routes() {
		registered[rt.method+" "+rt.path] = rt.op
		// The query parameters it accepts are those documented.
		op, _ := doc["paths"].(map[string]any)[rt.path].(map[string]any)[strings.ToLower(rt.method)].(map[string]any)
		var query []string
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			if p := resolve(p.(map[string]any)); p["in"] == "query" {
				query = append(query, p["name"].(string))
			}
		}
		if !slices.Equal(query, rt.params) {
			t.Errorf("%s %s accepts the query parameters %v, documented %v", rt.method, rt.path, rt.params, query)
		}
	}
	for k, op := range registered {
		if documented[k] != op {
			t.Errorf("route %s (%s) is documented as %q", k, op, documented[k])
		}
	}
	for k, op := range documented {
		if _, ok := registered[k]; !ok {
			t.Errorf("documented operation %s (%s) has no route", k, op)
		}
	}
	if got := doc["servers"].([]any)[0].(map[string]any)["url"]; got != Prefix {
		t.Errorf("servers[0].url = %v, want %s", got, Prefix)
	}
	s := &Server{mux: http.NewServeMux()}
	for _, rt := range routes() {
		s.mux.HandleFunc(rt.method+" "+Prefix+rt.path, func(http.ResponseWriter, *http.Request) {})
	}
	for k := range documented {
		method, path, _ := strings.Cut(k, " ")
		req, _ := http.NewRequest(method, Prefix+strings.ReplaceAll(path, "{id}", uuid.NewString()), nil)
		if op := operation(s.mux, req); op == nil {
			t.Errorf("%s: the server does not route it", k)
		}
	}
}

// operation returns the documented operation mux routes req to, or nil.
func operation(mux *http.ServeMux, req *http.Request) map[string]any {
	_, pattern := mux.Handler(req)
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, Prefix) {
		return nil
	}
	item, _ := doc["paths"].(map[string]any)[strings.TrimPrefix(path, Prefix)].(map[string]any)
	op, _ := item[strings.ToLower(method)].(map[string]any)
	return op
}

// checkResponse checks a response of the API against the document and
// records it for TestMain.
func checkResponse(t *testing.T, mux *http.ServeMux, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/") {
		return
	}
	op := operation(mux, req)
	if op == nil { // no operation: the catch-all's 404 or 405
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: no operation, status %d", req.Method, req.URL.Path, status)
		}
		validate(t, fmt.Sprintf("%s %s", req.Method, req.URL.Path), ref("Error"), body)
		return
	}
	id := op["operationId"].(string)
	responses := op["responses"].(map[string]any)
	resp, ok := responses[fmt.Sprint(status)].(map[string]any)
	if !ok {
		if status < 500 && status != http.StatusMethodNotAllowed && status != http.StatusMisdirectedRequest {
			t.Errorf("%s: status %d is not documented (%v)", id, status, keys(responses))
		}
		resp = responses["default"].(map[string]any)
	}
	resp = resolve(resp)
	seen.Lock()
	seen.m[fmt.Sprintf("%s %d", id, status)] = true
	seen.Unlock()
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		return
	}
	mt, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	media, ok := content[mt].(map[string]any)
	if !ok {
		t.Errorf("%s %d: content type %q is not documented (%v)", id, status, mt, keys(content))
		return
	}
	if mt == "application/json" && status != http.StatusPartialContent { // a part of a JSON result is not JSON
		validate(t, fmt.Sprintf("%s %d", id, status), media["schema"].(map[string]any), body)
	}
}

func keys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

// resolve follows a $ref of the document.
func resolve(v map[string]any) map[string]any {
	for {
		r, ok := v["$ref"].(string)
		if !ok {
			return v
		}
		var cur any = doc
		for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		v = cur.(map[string]any)
	}
}

// validate checks a JSON body against a schema of the document.
func validate(t *testing.T, what string, schema map[string]any, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s: body is not JSON: %v: %q", what, err, body)
		return
	}
	for _, err := range check(schema, v, "$") {
		t.Errorf("%s: %s\nbody: %s", what, err, body)
	}
}

// check returns where v does not match schema: the subset of JSON Schema
// the document uses (type, properties, required, additionalProperties,
// items, enum, format uuid and date-time).
func check(schema map[string]any, v any, at string) []string {
	schema = resolve(schema)
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		bad("%v is not one of %v", v, enum)
	}
	switch schema["type"] {
	case nil:
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			bad("want an object, got %T", v)
			return errs
		}
		props, _ := schema["properties"].(map[string]any)
		required, _ := schema["required"].([]any)
		for _, r := range required {
			if _, ok := obj[r.(string)]; !ok {
				bad("required %q is missing", r)
			}
		}
		for k, fv := range obj {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, check(ps, fv, at+"."+k)...)
			} else if ap, ok := schema["additionalProperties"].(map[string]any); ok {
				errs = append(errs, check(ap, fv, at+"."+k)...)
			} else if props != nil {
				bad("property %q is not documented", k)
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			bad("want an array, got %T", v)
			return errs
		}
		for i, item := range arr {
			errs = append(errs, check(schema["items"].(map[string]any), item, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			bad("want a string, got %T", v)
			return errs
		}
		switch schema["format"] {
		case "uuid":
			if _, err := uuid.Parse(s); err != nil {
				bad("%q is not a uuid", s)
			}
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				bad("%q is not a date-time", s)
			}
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			bad("want an integer, got %v", v)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			bad("want a number, got %T", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("want a boolean, got %T", v)
		}
	default:
		bad("schema type %v is not supported by this check", schema["type"])
	}
	return errs
}

// TestCheckCatchesMismatches: the schema check is not vacuous.
func TestCheckCatchesMismatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		schema, body string
	}{
		{"Submitted", `{"id":"not-a-uuid","events":1}`},
		{"Submitted", `{"id":"` + uuid.NewString() + `"}`},
		{"Error", `{"error":"x","code":"nope"}`},
		{"JobList", `{"jobs":[{"id":1}],"states":{}}`},
		{"FailedPage", `{"failed":[{"id":"a","reason":"r","attempts":1.5,"at":"2026-01-01T00:00:00Z"}]}`},
		{"MissingPage", `{"missing":["a"],"extra":true}`},
	} {
		var v any
		_ = json.Unmarshal([]byte(tc.body), &v)
		if errs := check(ref(tc.schema), v, "$"); len(errs) == 0 {
			t.Errorf("%s accepted %s", tc.schema, tc.body)
		}
	}
}
