// Package metrics is Switchboard's Prometheus instrumentation: the call
// core's figures (active channels, calls by hangup cause, hunt and
// application latencies), the configuration's (reloads, the hash in
// force) and the Go runtime's, in a registry of its own — never the
// process-wide default one, so two switches in one process (tests) do not
// collide.
//
// Handler serves the registry in the Prometheus text format; the running
// switch mounts it at /metrics on its admin address.
//
// Every name starts with "switchboard_". Label values come from bounded
// sets only: hangup causes, registered application names, "ok"/"failed".
// Nothing a caller controls (a destination, a context) becomes a label.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric name.
const Namespace = "switchboard"

// Options configure New.
type Options struct {
	// ActiveChannels returns the number of live call legs; nil leaves
	// switchboard_channels_active out.
	ActiveChannels func() int
	// SessionsCreated returns how many call legs were created since
	// start-up; nil leaves switchboard_sessions_created_total out.
	SessionsCreated func() uint64
	// NoRuntime leaves out the Go runtime and process collectors (tests
	// that compare the whole output).
	NoRuntime bool
}

// Metrics holds the switch's collectors. Its methods are safe for
// concurrent use and cheap enough for the call path (no allocation once a
// label value has been seen).
type Metrics struct {
	reg *prometheus.Registry

	calls     *prometheus.CounterVec
	hunt      *prometheus.HistogramVec
	huntFound prometheus.Observer
	huntMiss  prometheus.Observer
	app       *prometheus.HistogramVec
	reloads   *prometheus.CounterVec
	reloadOK  prometheus.Counter
	reloadBad prometheus.Counter
	reloadDur prometheus.Histogram
	lastOK    prometheus.Gauge
	lastOKAt  prometheus.Gauge
	config    *prometheus.GaugeVec

	mu   sync.Mutex // guards hash
	hash string
}

// New returns a Metrics with every collector registered in a new registry.
func New(opts Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	if !opts.NoRuntime {
		m.reg.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
	}
	if f := opts.ActiveChannels; f != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace,
			Name:      "channels_active",
			Help:      "Call legs alive now.",
		}, func() float64 { return float64(f()) }))
	}
	if f := opts.SessionsCreated; f != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: Namespace,
			Name:      "sessions_created_total",
			Help:      "Call legs created since start-up.",
		}, func() float64 { return float64(f()) }))
	}
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace,
		Name:      "calls_total",
		Help:      "Call legs ended, by hangup cause.",
	}, []string{"hangup_cause"})
	m.hunt = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace,
		Name:      "hunt_duration_seconds",
		Help:      "Time of one dialplan hunt (inline actions included), by whether an extension matched.",
		// 1 µs to about 0.26 s.
		Buckets: prometheus.ExponentialBuckets(1e-6, 4, 10),
	}, []string{"result"})
	m.huntFound = m.hunt.WithLabelValues("found")
	m.huntMiss = m.hunt.WithLabelValues("not_found")
	m.app = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace,
		Name:      "app_duration_seconds",
		Help:      "Time one dialplan application ran, by application.",
		// 100 µs to about 7 minutes: answer and set are quick, echo and
		// park last the whole call.
		Buckets: prometheus.ExponentialBuckets(1e-4, 4, 12),
	}, []string{"app"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace,
		Name:      "config_reloads_total",
		Help:      "Configuration reloads (reloadxml, SIGHUP, --watch), by result.",
	}, []string{"result"})
	m.reloadOK = m.reloads.WithLabelValues("ok")
	m.reloadBad = m.reloads.WithLabelValues("failed")
	m.reloadDur = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace,
		Name:      "config_reload_duration_seconds",
		Help:      "Time to load, check and swap in a configuration, failed attempts included.",
		Buckets:   prometheus.ExponentialBuckets(1e-3, 2, 12),
	})
	m.lastOK = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "config_last_reload_successful",
		Help:      "1 when the last reload attempt succeeded (or none was made), 0 when it failed.",
	})
	m.lastOK.Set(1)
	m.lastOKAt = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "config_last_reload_success_timestamp_seconds",
		Help:      "Unix time the configuration in force was loaded.",
	})
	m.config = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "config_info",
		Help:      "The configuration in force: its SHA-256 (of the expanded document) as the hash label; always 1.",
	}, []string{"hash"})
	m.reg.MustRegister(m.calls, m.hunt, m.app, m.reloads, m.reloadDur, m.lastOK, m.lastOKAt, m.config)
	return m
}

// Registry returns the registry, for callers that add collectors of their
// own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// CallEnded counts a call leg that ended with cause (a FreeSWITCH hangup
// cause name such as NORMAL_CLEARING).
func (m *Metrics) CallEnded(cause string) { m.calls.WithLabelValues(cause).Inc() }

// HuntDone records one dialplan hunt; found tells whether an extension
// matched. It has the signature of session.Observer.
func (m *Metrics) HuntDone(found bool, d time.Duration) {
	if found {
		m.huntFound.Observe(d.Seconds())
	} else {
		m.huntMiss.Observe(d.Seconds())
	}
}

// AppDone records how long application app ran. It has the signature of
// session.Observer.
func (m *Metrics) AppDone(app string, d time.Duration) {
	m.app.WithLabelValues(app).Observe(d.Seconds())
}

// ConfigLoaded records the configuration put in force at start-up or by
// a reload: its hash becomes the config_info label and the success time
// is now.
func (m *Metrics) ConfigLoaded(hash string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hash != "" && m.hash != hash {
		m.config.DeleteLabelValues(m.hash)
	}
	m.hash = hash
	m.config.WithLabelValues(hash).Set(1)
	m.lastOKAt.Set(float64(at.UnixNano()) / 1e9)
}

// ReloadDone counts a reload attempt and its duration. A successful one
// should be followed by ConfigLoaded.
func (m *Metrics) ReloadDone(ok bool, d time.Duration) {
	m.reloadDur.Observe(d.Seconds())
	if ok {
		m.reloadOK.Inc()
		m.lastOK.Set(1)
	} else {
		m.reloadBad.Inc()
		m.lastOK.Set(0)
	}
}
