package httpapi_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/fanin-dev/fanin/internal/httpapi"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// Submit a job of three events over HTTP, then read its status.
func Example() {
	tb := &redistest.ExampleTB{}
	defer tb.Close()
	client := redistest.StartServer(tb, redistest.ServerOptions{}).Client(tb)
	store, err := workoutput.New(client, workoutput.Config{})
	if err != nil {
		log.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Config{Client: client, Store: store})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()

	body := "{\"id\":\"a\",\"n\":1}\n{\"id\":\"b\",\"n\":2}\n{\"n\":3}\n"
	resp, err := http.Post(srv.URL+"/api/v1/jobs?kind=count&name=demo", "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	var sub struct {
		ID     string
		Events int
	}
	_ = json.NewDecoder(resp.Body).Decode(&sub)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, sub.Events)

	resp, err = http.Get(srv.URL + "/api/v1/jobs/" + sub.ID)
	if err != nil {
		log.Fatal(err)
	}
	var job struct {
		Name, State    string
		Total, Pending int
		Actions        []string
	}
	_ = json.NewDecoder(resp.Body).Decode(&job)
	resp.Body.Close()
	fmt.Println(job.Name, job.State, job.Total, job.Pending, job.Actions)
	// Output:
	// 201 3
	// demo running 3 3 [cancel]
}
