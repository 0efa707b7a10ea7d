package registry

import (
	"slices"
	"testing"
)

func TestMap(t *testing.T) {
	r := New[int]("thing")
	r.Add("Beta", 2)
	r.Add("alpha", 1)
	if v, ok := r.Get("BETA"); !ok || v != 2 {
		t.Errorf("Get(BETA) = %d, %v", v, ok)
	}
	if _, ok := r.Get("gamma"); ok {
		t.Error("Get(gamma) found something")
	}
	if got := r.Names(); !slices.Equal(got, []string{"alpha", "beta"}) {
		t.Errorf("Names = %v", got)
	}
	for _, name := range []string{"ALPHA", ""} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Add(%q) did not panic", name)
				}
			}()
			r.Add(name, 3)
		}()
	}
}
