package vars

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
)

// pairs lists a store's variables in Range order.
func pairs(s *Store) [][2]string {
	var out [][2]string
	s.Range(func(n, v string) bool { out = append(out, [2]string{n, v}); return true })
	return out
}

type storeOp struct {
	op    string // set, setarray, push, unshift, unset, unsetprefix
	name  string
	value string
	vals  []string
}

func apply(s *Store, ops []storeOp) {
	for _, o := range ops {
		switch o.op {
		case "set":
			s.Set(o.name, o.value)
		case "setarray":
			s.SetArray(o.name, o.vals)
		case "push":
			s.Push(o.name, o.value)
		case "unshift":
			s.Unshift(o.name, o.value)
		case "unset":
			s.Unset(o.name)
		case "unsetprefix":
			s.UnsetPrefix(o.name)
		default:
			panic("unknown op " + o.op)
		}
	}
}

func TestStoreSemantics(t *testing.T) {
	tests := []struct {
		name   string
		ops    []storeOp
		want   [][2]string         // Range order, spelling as listed
		get    map[string]string   // lookups that must hit (any case)
		miss   []string            // lookups that must miss
		arrays map[string][]string // Array results
	}{
		{
			name: "insertion order and first spelling kept",
			ops: []storeOp{
				{op: "set", name: "B", value: "1"},
				{op: "set", name: "a", value: "2"},
				{op: "set", name: "b", value: "3"},
				{op: "set", name: "C_x", value: "4"},
			},
			want: [][2]string{{"B", "3"}, {"a", "2"}, {"C_x", "4"}},
			get:  map[string]string{"b": "3", "B": "3", "A": "2", "c_X": "4"},
			miss: []string{"d", "", "bb"},
		},
		{
			name: "empty value unsets; re-adding goes to the end with the new spelling",
			ops: []storeOp{
				{op: "set", name: "One", value: "1"},
				{op: "set", name: "two", value: "2"},
				{op: "set", name: "ONE", value: ""},
				{op: "set", name: "three", value: "3"},
				{op: "set", name: "oNe", value: "again"},
			},
			want: [][2]string{{"two", "2"}, {"three", "3"}, {"oNe", "again"}},
			get:  map[string]string{"one": "again"},
		},
		{
			name: "unset of a missing name is a no-op",
			ops: []storeOp{
				{op: "set", name: "x", value: "1"},
				{op: "unset", name: "nope"},
				{op: "unset", name: "X"},
				{op: "unset", name: "x"},
			},
			want: nil,
			miss: []string{"x"},
		},
		{
			name: "ARRAY:: values become arrays",
			ops: []storeOp{
				{op: "set", name: "arr", value: "ARRAY::a|:b|:c"},
				{op: "set", name: "one", value: "ARRAY::solo"},
				{op: "set", name: "s", value: "plain"},
			},
			want:   [][2]string{{"arr", "ARRAY::a|:b|:c"}, {"one", "solo"}, {"s", "plain"}},
			arrays: map[string][]string{"arr": {"a", "b", "c"}, "ONE": {"solo"}, "s": {"plain"}, "missing": nil},
		},
		{
			name: "SetArray: empty unsets, one element reads as the element",
			ops: []storeOp{
				{op: "set", name: "gone", value: "x"},
				{op: "setarray", name: "GONE", vals: nil},
				{op: "setarray", name: "two", vals: []string{"p", "q"}},
				{op: "setarray", name: "one", vals: []string{"p"}},
			},
			want:   [][2]string{{"two", "ARRAY::p|:q"}, {"one", "p"}},
			arrays: map[string][]string{"two": {"p", "q"}, "one": {"p"}},
			miss:   []string{"gone"},
		},
		{
			name: "Push and Unshift build arrays; empty values ignored",
			ops: []storeOp{
				{op: "push", name: "h", value: "1"},
				{op: "push", name: "H", value: "2"},
				{op: "unshift", name: "h", value: "0"},
				{op: "push", name: "h", value: ""},
				{op: "set", name: "s", value: "x"},
				{op: "push", name: "s", value: "y"},
				{op: "unshift", name: "new", value: "only"},
			},
			want:   [][2]string{{"h", "ARRAY::0|:1|:2"}, {"s", "ARRAY::x|:y"}, {"new", "only"}},
			arrays: map[string][]string{"h": {"0", "1", "2"}, "s": {"x", "y"}, "new": {"only"}},
		},
		{
			name: "UnsetPrefix is case-insensitive and keeps the order of the rest",
			ops: []storeOp{
				{op: "set", name: "DP_MATCH", value: "1"},
				{op: "set", name: "keep", value: "k"},
				{op: "set", name: "dp_regex_match_1", value: "2"},
				{op: "set", name: "Dp_Other", value: "3"},
				{op: "set", name: "last", value: "l"},
				{op: "unsetprefix", name: "DP_"},
			},
			want: [][2]string{{"keep", "k"}, {"last", "l"}},
			miss: []string{"dp_match", "DP_OTHER"},
		},
		{
			name: "non-ASCII names fold like strings.ToLower",
			ops: []storeOp{
				{op: "set", name: "ÄBC", value: "1"},
				{op: "set", name: "äbc", value: "2"},
				{op: "set", name: "\u212a", value: "kelvin"}, // KELVIN SIGN lower-cases to 'k'
			},
			want: [][2]string{{"ÄBC", "2"}, {"\u212a", "kelvin"}},
			get:  map[string]string{"äBC": "2", "k": "kelvin", "K": "kelvin"},
		},
		{
			name: "non-ASCII names: arrays, replacement, prefixes",
			ops: []storeOp{
				{op: "push", name: "Über", value: "a"},
				{op: "push", name: "über", value: "b"},
				{op: "set", name: "ÜBER_x", value: "1"},
				{op: "set", name: "keep", value: "k"},
				{op: "set", name: "Éa", value: "ARRAY::p|:q"},
				{op: "set", name: "éA", value: "scalar again"},
				{op: "unsetprefix", name: "üBER_"},
			},
			want:   [][2]string{{"Über", "ARRAY::a|:b"}, {"keep", "k"}, {"Éa", "scalar again"}},
			arrays: map[string][]string{"ÜBER": {"a", "b"}, "éa": {"scalar again"}},
			miss:   []string{"über_x"},
		},
	}
	for _, tc := range tests {
		for _, size := range []int{0, 2, 100} {
			t.Run(fmt.Sprintf("%s/size%d", tc.name, size), func(t *testing.T) {
				s := NewStoreSize(size)
				apply(s, tc.ops)
				if got := pairs(s); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("Range = %q, want %q", got, tc.want)
				}
				if s.Len() != len(tc.want) {
					t.Errorf("Len = %d, want %d", s.Len(), len(tc.want))
				}
				for n, want := range tc.get {
					if got, ok := s.Get(n); !ok || got != want {
						t.Errorf("Get(%q) = %q, %v; want %q", n, got, ok, want)
					}
				}
				for _, n := range tc.miss {
					if got, ok := s.Get(n); ok {
						t.Errorf("Get(%q) = %q, want a miss", n, got)
					}
				}
				for n, want := range tc.arrays {
					if got := s.Array(n); !reflect.DeepEqual(got, want) {
						t.Errorf("Array(%q) = %q, want %q", n, got, want)
					}
				}
			})
		}
	}
}

// TestStoreManyVariables drives a store past the size where it indexes
// its names, with removals in between, against a plain map model.
func TestStoreManyVariables(t *testing.T) {
	s := NewStore()
	model := map[string]string{}
	var order []string
	remove := func(k string) {
		delete(model, k)
		for i, o := range order {
			if o == k {
				order = append(order[:i], order[i+1:]...)
				break
			}
		}
	}
	for i := range 300 {
		name := "Var_" + strconv.Itoa(i%120)
		k := "var_" + strconv.Itoa(i%120)
		switch {
		case i%7 == 3:
			s.Unset(name)
			remove(k)
		case i%53 == 0:
			s.UnsetPrefix("VAR_1")
			for _, o := range append([]string(nil), order...) {
				if len(o) >= 5 && o[:5] == "var_1" {
					remove(o)
				}
			}
		default:
			v := strconv.Itoa(i)
			s.Set(name, v)
			if _, ok := model[k]; !ok {
				order = append(order, k)
			}
			model[k] = v
		}
		if s.Len() != len(model) {
			t.Fatalf("step %d: Len %d, want %d", i, s.Len(), len(model))
		}
	}
	for k, v := range model {
		if got, ok := s.Get(k); !ok || got != v {
			t.Errorf("Get(%q) = %q, %v; want %q", k, got, ok, v)
		}
	}
	var got []string
	s.Range(func(n, _ string) bool { got = append(got, n); return true })
	if len(got) != len(order) {
		t.Fatalf("Range listed %d names, want %d", len(got), len(order))
	}
	for i := range got {
		if got[i] != "Var_"+order[i][4:] {
			t.Errorf("Range[%d] = %q, want %q", i, got[i], "Var_"+order[i][4:])
		}
	}
	for i := range 120 {
		if _, ok := s.Get("VAR_" + strconv.Itoa(i)); ok != (model["var_"+strconv.Itoa(i)] != "") {
			t.Errorf("Get(VAR_%d) presence %v", i, ok)
		}
	}
}

func TestStoreRangeStops(t *testing.T) {
	s := NewStore()
	for i := range 5 {
		s.Set("v"+strconv.Itoa(i), "x")
	}
	n := 0
	s.Range(func(string, string) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("Range visited %d after returning false at 2", n)
	}
}

func TestStoreMapNamesClone(t *testing.T) {
	s := NewStore()
	s.Set("b", "1")
	s.Set("A", "2")
	s.SetArray("arr", []string{"x", "y"})
	if got := s.Map(); !reflect.DeepEqual(got, map[string]string{"b": "1", "A": "2", "arr": "ARRAY::x|:y"}) {
		t.Errorf("Map = %v", got)
	}
	if got := s.Names(); !reflect.DeepEqual(got, []string{"A", "arr", "b"}) {
		t.Errorf("Names = %q", got)
	}
	c := s.Clone()
	c.Set("b", "changed")
	c.Push("arr", "z")
	c.Set("new", "n")
	if v, _ := s.Get("b"); v != "1" {
		t.Errorf("clone shares values: b = %q", v)
	}
	if got := s.Array("arr"); !reflect.DeepEqual(got, []string{"x", "y"}) {
		t.Errorf("clone shares arrays: arr = %q", got)
	}
	if _, ok := s.Get("new"); ok {
		t.Error("clone shares names")
	}
	if got := pairs(c); !reflect.DeepEqual(got, [][2]string{{"b", "changed"}, {"A", "2"}, {"arr", "ARRAY::x|:y|:z"}, {"new", "n"}}) {
		t.Errorf("clone Range = %q", got)
	}
	// Arrays handed in or out are copies.
	in := []string{"p", "q"}
	s.SetArray("in", in)
	in[0] = "changed"
	out := s.Array("in")
	out[1] = "changed"
	if got := s.Array("in"); !reflect.DeepEqual(got, []string{"p", "q"}) {
		t.Errorf("array aliasing: %q", got)
	}
}

func TestStoreNil(t *testing.T) {
	var s *Store
	if v, ok := s.Get("x"); ok || v != "" {
		t.Errorf("nil Get = %q, %v", v, ok)
	}
}

// TestStoreConcurrent is for the race detector: one writer, readers.
func TestStoreConcurrent(t *testing.T) {
	s := NewStore()
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := range 2000 {
			s.Set("k"+strconv.Itoa(i%50), strconv.Itoa(i))
			if i%10 == 0 {
				s.Unset("k" + strconv.Itoa(i%50))
			}
		}
	}()
	for range 2 {
		go func() {
			defer wg.Done()
			for i := range 2000 {
				s.Get("K" + strconv.Itoa(i%50))
				if i%100 == 0 {
					s.Range(func(string, string) bool { return true })
					s.Clone()
				}
			}
		}()
	}
	wg.Wait()
}

// TestStoreAllocs pins the allocation cost of a sized store: adding new
// lower-case variables with values the caller already has allocates
// nothing, and lookups never allocate, whatever the case of the name.
func TestStoreAllocs(t *testing.T) {
	names := make([]string, 64)
	upper := make([]string, 64)
	for i := range names {
		names[i] = "sip_var_" + strconv.Itoa(i)
		upper[i] = "SIP_Var_" + strconv.Itoa(i)
	}
	allocs := testing.AllocsPerRun(20, func() {
		s := NewStoreSize(len(names))
		for _, n := range names {
			s.Set(n, n)
		}
		for _, n := range upper {
			if _, ok := s.Get(n); !ok {
				t.Fatalf("%s missing", n)
			}
		}
		s.Get("missing")
		s.Unset("not_there")
		s.UnsetPrefix("DP_REGEX_MATCH")
	})
	// The Store, its entries and its index.
	if allocs > 3 {
		t.Errorf("%v allocations for a store of %d variables, want at most 3", allocs, len(names))
	}
}

func BenchmarkStore(b *testing.B) {
	names := make([]string, 60)
	for i := range names {
		names[i] = "sip_variable_" + strconv.Itoa(i)
	}
	b.Run("Set60", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := NewStore()
			for _, n := range names {
				s.Set(n, n)
			}
		}
	})
	b.Run("Set60Sized", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s := NewStoreSize(len(names))
			for _, n := range names {
				s.Set(n, n)
			}
		}
	})
	s := NewStore()
	for _, n := range names {
		s.Set(n, n)
	}
	b.Run("GetHit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Get("sip_variable_42")
		}
	})
	b.Run("GetHitMixedCase", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Get("SIP_Variable_42")
		}
	})
	b.Run("GetMiss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Get("destination_number")
		}
	})
}

// TestStoreCaseFolding checks lookups of random names in random case
// (ASCII and not) against strings.ToLower.
func TestStoreCaseFolding(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-0123456789@[`{ÄäÉé"
	runes := []rune(letters)
	s := NewStore()
	model := map[string]string{}
	for i := range 2000 {
		n := 1 + r.IntN(20)
		var b strings.Builder
		for range n {
			b.WriteRune(runes[r.IntN(len(runes))])
		}
		name := b.String()
		v := strconv.Itoa(i)
		s.Set(name, v)
		model[strings.ToLower(name)] = v
	}
	if s.Len() != len(model) {
		t.Fatalf("Len %d, want %d", s.Len(), len(model))
	}
	for k, v := range model {
		for _, probe := range []string{k, strings.ToUpper(k), swapCase(k)} {
			if got, ok := s.Get(probe); !ok || got != v {
				t.Errorf("Get(%q) = %q, %v; want %q", probe, got, ok, v)
			}
		}
	}
}

func swapCase(s string) string {
	b := []rune(s)
	for i, c := range b {
		if unicode.IsUpper(c) {
			b[i] = unicode.ToLower(c)
		} else {
			b[i] = unicode.ToUpper(c)
		}
	}
	return string(b)
}
