package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// scrape returns the text exposition of m.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// family returns the gathered metric family called name, or nil.
func family(t *testing.T, m *Metrics, name string) *dto.MetricFamily {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

// labelled returns the metric of f whose label name has value, or nil.
func labelled(f *dto.MetricFamily, name, value string) *dto.Metric {
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == name && l.GetValue() == value {
				return m
			}
		}
	}
	return nil
}

func TestCounters(t *testing.T) {
	active := 3
	m := New(Options{ActiveChannels: func() int { return active }, SessionsCreated: func() uint64 { return 42 }, NoRuntime: true})
	for _, c := range []string{"NORMAL_CLEARING", "USER_BUSY", "NORMAL_CLEARING"} {
		m.CallEnded(c)
	}
	m.HuntDone(true, 20*time.Microsecond)
	m.HuntDone(false, 2*time.Millisecond)
	m.HuntDone(true, 30*time.Microsecond)
	m.AppDone("answer", time.Millisecond)
	m.AppDone("echo", 90*time.Second)
	m.ReloadDone(false, 5*time.Millisecond)
	m.ReloadDone(true, 6*time.Millisecond)
	m.ReloadDone(false, 7*time.Millisecond)

	tests := []struct {
		family, label, value string
		want                 float64
	}{
		{"switchboard_calls_total", "hangup_cause", "NORMAL_CLEARING", 2},
		{"switchboard_calls_total", "hangup_cause", "USER_BUSY", 1},
		{"switchboard_config_reloads_total", "result", "ok", 1},
		{"switchboard_config_reloads_total", "result", "failed", 2},
	}
	for _, tt := range tests {
		mt := labelled(family(t, m, tt.family), tt.label, tt.value)
		if mt == nil {
			t.Errorf("%s{%s=%q} missing", tt.family, tt.label, tt.value)
			continue
		}
		if got := mt.GetCounter().GetValue(); got != tt.want {
			t.Errorf("%s{%s=%q} = %v, want %v", tt.family, tt.label, tt.value, got, tt.want)
		}
	}
	hist := []struct {
		family, label, value string
		count                uint64
		sum                  float64
	}{
		{"switchboard_hunt_duration_seconds", "result", "found", 2, 50e-6},
		{"switchboard_hunt_duration_seconds", "result", "not_found", 1, 2e-3},
		{"switchboard_app_duration_seconds", "app", "answer", 1, 1e-3},
		{"switchboard_app_duration_seconds", "app", "echo", 1, 90},
	}
	for _, h := range hist {
		mt := labelled(family(t, m, h.family), h.label, h.value)
		if mt == nil {
			t.Errorf("%s{%s=%q} missing", h.family, h.label, h.value)
			continue
		}
		got := mt.GetHistogram()
		if got.GetSampleCount() != h.count || abs(got.GetSampleSum()-h.sum) > 1e-9 {
			t.Errorf("%s{%s=%q}: count %d sum %v, want %d and %v", h.family, h.label, h.value, got.GetSampleCount(), got.GetSampleSum(), h.count, h.sum)
		}
	}
	if f := family(t, m, "switchboard_config_last_reload_successful"); f == nil || f.GetMetric()[0].GetGauge().GetValue() != 0 {
		t.Errorf("last reload failed, config_last_reload_successful = %v, want 0", f)
	}
	if f := family(t, m, "switchboard_config_reload_duration_seconds"); f == nil || f.GetMetric()[0].GetHistogram().GetSampleCount() != 3 {
		t.Errorf("reload durations: %v, want 3 samples", f)
	}

	text := scrape(t, m)
	for _, want := range []string{
		"switchboard_channels_active 3\n",
		"switchboard_sessions_created_total 42\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q:\n%s", want, text)
		}
	}
	active = 0
	if text := scrape(t, m); !strings.Contains(text, "switchboard_channels_active 0\n") {
		t.Errorf("active channels not read at scrape time:\n%s", text)
	}
}

func TestConfigInfoKeepsOnlyTheHashInForce(t *testing.T) {
	m := New(Options{NoRuntime: true})
	at := time.Unix(1700000000, 500_000_000)
	m.ConfigLoaded("aaa", at)
	m.ConfigLoaded("bbb", at.Add(time.Second))
	f := family(t, m, "switchboard_config_info")
	if f == nil || len(f.GetMetric()) != 1 {
		t.Fatalf("config_info: %v, want one series", f)
	}
	if labelled(f, "hash", "bbb") == nil {
		t.Errorf("config_info does not carry the hash in force: %v", f)
	}
	ts := family(t, m, "switchboard_config_last_reload_success_timestamp_seconds")
	if got := ts.GetMetric()[0].GetGauge().GetValue(); got != 1700000001.5 {
		t.Errorf("success timestamp %v, want 1700000001.5", got)
	}
	// The same hash again (a reload that changed nothing) keeps one series.
	m.ConfigLoaded("bbb", at.Add(2*time.Second))
	if f := family(t, m, "switchboard_config_info"); len(f.GetMetric()) != 1 {
		t.Errorf("config_info has %d series after reloading the same configuration", len(f.GetMetric()))
	}
}

func TestRuntimeCollectors(t *testing.T) {
	m := New(Options{})
	text := scrape(t, m)
	for _, want := range []string{"go_goroutines ", "go_memstats_heap_alloc_bytes "} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks the runtime metric %q", want)
		}
	}
	// Separate registries: two Metrics in one process do not collide.
	_ = New(Options{})
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
