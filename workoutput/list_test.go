package workoutput_test

import (
	"context"
	"slices"
	"testing"

	"github.com/fanin-dev/fanin/workoutput"
)

func TestJobsListsTheNamespaceOnly(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, cluster bool) {
		ctx := context.Background()
		e := newEnv(t, cluster, workoutput.Config{})
		// Another deployment on the same server, in a namespace that starts
		// like this one's and holds a glob character.
		other, err := workoutput.New(e.r.Client, workoutput.Config{Namespace: e.r.Prefix + "*other:"})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for range 5 {
			job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{Generated: 1}, true)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, job.ID)
		}
		stranger, err := other.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{}, true)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for id, err := range e.store.Jobs(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, id)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("Jobs = %v, want %v", got, want)
		}
		var others []string
		for id, err := range other.Jobs(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			others = append(others, id)
		}
		if !slices.Equal(others, []string{stranger.ID}) {
			t.Fatalf("the other namespace lists %v, want only %s", others, stranger.ID)
		}
		for range e.store.Jobs(ctx) {
			break // stopping early must not panic
		}
	})
}
