package apps

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestBindMetaApp(t *testing.T) {
	tests := []struct {
		name    string
		vars    []string
		data    string
		want    MetaBinding
		wantErr bool
		usage   bool
	}{
		{
			name: "vanilla *1 on the A leg",
			data: "1 a s execute_extension::dx XML features",
			want: MetaBinding{Key: 1, Meta: '*', Flags: MetaDialA | MetaExecSame, App: "execute_extension::dx XML features"},
		},
		{
			name: "both legs, B, inline, once",
			data: "2 ab bi1 playback::beep.wav",
			want: MetaBinding{Key: 2, Meta: '*', Flags: MetaDialA | MetaDialB | MetaExecB | MetaExecInline | MetaOnce, App: "playback::beep.wav"},
		},
		{
			name: "a and b: a wins",
			data: "3 a ab x::",
			want: MetaBinding{Key: 3, Meta: '*', Flags: MetaDialA | MetaExecA, App: "x::"},
		},
		{
			name: "o after a is refused",
			data: "3 a ao x::",
			want: MetaBinding{Key: 3, Meta: '*', Flags: MetaDialA | MetaExecA, App: "x::"},
		},
		{
			name: "o then s: both kept, as FreeSWITCH does",
			data: "4 b os x::",
			want: MetaBinding{Key: 4, Meta: '*', Flags: MetaDialB | MetaExecOpposite | MetaExecSame, App: "x::"},
		},
		{
			name: "keys A-D read as 10-13",
			data: "D a s x::",
			want: MetaBinding{Key: 13, Meta: '*', Flags: MetaDialA | MetaExecSame, App: "x::"},
		},
		{
			name: "# is key 0",
			data: "# a s x::",
			want: MetaBinding{Key: 0, Meta: '*', Flags: MetaDialA | MetaExecSame, App: "x::"},
		},
		{
			name: "the app keeps its spaces",
			data: "5 a a  playback::a b",
			want: MetaBinding{Key: 5, Meta: '*', Flags: MetaDialA | MetaExecA, App: "playback::a b"},
		},
		{
			name: "bind_meta_key",
			vars: []string{"bind_meta_key", "#"},
			data: "1 a s x::",
			want: MetaBinding{Key: 1, Meta: '#', Flags: MetaDialA | MetaExecSame, App: "x::"},
		},
		{
			name: "an invalid bind_meta_key keeps *",
			vars: []string{"bind_meta_key", "x"},
			data: "1 a s x::",
			want: MetaBinding{Key: 1, Meta: '*', Flags: MetaDialA | MetaExecSame, App: "x::"},
		},
		{name: "the key is the meta key", vars: []string{"bind_meta_key", "9"}, data: "9 a s x::", wantErr: true},
		{name: "key above D", data: "14 a s x::", wantErr: true},
		{name: "negative key", data: "-1 a s x::", wantErr: true},
		{name: "three arguments", data: "1 a s", usage: true},
		{name: "no data", data: "", usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newDigitSession(tt.vars...)
			err := bindMetaApp(context.Background(), s, tt.data)
			var ue *UsageError
			switch {
			case tt.usage:
				if !errors.As(err, &ue) {
					t.Fatalf("err = %v, want a usage error", err)
				}
			case tt.wantErr:
				if err == nil {
					t.Fatalf("bound %+v, want an error", s.metas)
				}
			case err != nil:
				t.Fatal(err)
			case len(s.metas) != 1 || !reflect.DeepEqual(s.metas[0], tt.want):
				t.Errorf("bound %+v, want %+v", s.metas, tt.want)
			}
			if (tt.usage || tt.wantErr) && len(s.metas) != 0 {
				t.Errorf("bound %+v", s.metas)
			}
		})
	}
}

func TestUnbindMetaApp(t *testing.T) {
	s := newDigitSession()
	for _, data := range []string{"", "3", "0", "*"} {
		if err := unbindMetaApp(context.Background(), s, data); err != nil {
			t.Fatalf("unbind_meta_app %q: %v", data, err)
		}
	}
	if want := []int{0, 3, 0, 0}; !reflect.DeepEqual(s.unbinds, want) {
		t.Errorf("unbound %v, want %v", s.unbinds, want)
	}
	for _, data := range []string{"A", "12", "-2"} {
		if err := unbindMetaApp(context.Background(), s, data); err == nil {
			t.Errorf("unbind_meta_app %q accepted", data)
		}
	}
}

func TestDTMFToInt(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "7": 7, "12": 12, "a": 10, "B": 11, "d": 13, "e": 0, "*": 0, "#": 0, "": 0, " 4": 4, "3x": 3} {
		if got := DTMFToInt(in); got != want {
			t.Errorf("DTMFToInt(%q) = %d, want %d", in, got, want)
		}
	}
	for _, c := range "0123456789*#ABCDabcdwWfF" {
		if !IsDTMF(c) {
			t.Errorf("IsDTMF(%q) = false", c)
		}
	}
	for _, c := range "eExX !" {
		if IsDTMF(c) {
			t.Errorf("IsDTMF(%q) = true", c)
		}
	}
}
