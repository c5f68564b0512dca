package workoutput

import "testing"

func TestMetaKeyNames(t *testing.T) {
	t.Parallel()
	if p := metaPattern("fanin:"); p != "fanin:job:{*}:meta" {
		t.Errorf("metaPattern = %q", p)
	}
	if p := metaPattern("a*b?:"); p != `a\*b\?:job:{*}:meta` {
		t.Errorf("metaPattern of a glob namespace = %q", p)
	}
	id := "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d"
	if got := jobIDOfMeta("fanin:", keysOf("fanin:", id).meta); got != id {
		t.Errorf("jobIDOfMeta of the meta key = %q, want %q", got, id)
	}
	for _, k := range []string{"other:job:{x}:meta", keysOf("fanin:", "x").outputs, indexKey("fanin:")} {
		if got := jobIDOfMeta("fanin:", k); got != "" {
			t.Errorf("jobIDOfMeta(%q) = %q, want none", k, got)
		}
	}
}
