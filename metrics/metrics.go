// Package metrics defines the service's Prometheus metrics and the HTTP
// middleware that records requests. Labels are bounded by design: routes
// are Gin's patterns (never raw paths), statuses are classes (2xx…5xx).
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every collector, registered on its own registry so that
// tests and several servers in one process do not collide.
type Metrics struct {
	Registry *prometheus.Registry

	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	tokensIssued *prometheus.CounterVec
	authFailures *prometheus.CounterVec
	rateLimited  *prometheus.CounterVec
	cacheLookups *prometheus.CounterVec
	dbLatency    *prometheus.HistogramVec

	// series holds each route's resolved counter and histogram, so that a
	// request does not hash its labels again; routes are Gin's patterns,
	// so it stays small.
	series sync.Map // seriesKey -> *routeSeries
}

type seriesKey struct {
	route, method string
	class         int // status / 100, 0 for none
}

type routeSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// New creates the collectors, with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beerlocker_http_requests_total", Help: "HTTP requests by route pattern, method and status class.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "beerlocker_http_request_duration_seconds", Help: "HTTP request latency by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		tokensIssued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beerlocker_tokens_issued_total", Help: "Access tokens issued, by grant type.",
		}, []string{"grant"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beerlocker_auth_failures_total", Help: "Failed authentications, by kind (basic, bearer, client, password_grant, login, device_code).",
		}, []string{"kind"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beerlocker_rate_limited_total", Help: "Credential checks and registrations refused with 429, by the limit that refused them (address, account, register).",
		}, []string{"limit"}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "beerlocker_cache_lookups_total", Help: "Cache lookups by cache and result (hit, miss); hit ratio = hit / (hit + miss).",
		}, []string{"cache", "result"}),
		dbLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "beerlocker_db_operation_duration_seconds", Help: "Database call latency by repository operation.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 5},
		}, []string{"operation"}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.tokensIssued, m.authFailures, m.rateLimited, m.cacheLookups, m.dbLatency,
	)
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Middleware records every request by route pattern, method and status class.
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched" // never the raw path: it is unbounded
		}
		method := c.Request.Method
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		default:
			method = "other"
		}
		k := seriesKey{route: route, method: method, class: statusClassOf(c.Writer.Status())}
		rs, ok := m.series.Load(k)
		if !ok {
			rs, _ = m.series.LoadOrStore(k, &routeSeries{
				requests: m.requests.WithLabelValues(route, method, statusClasses[k.class]),
				latency:  m.latency.WithLabelValues(route, method),
			})
		}
		s := rs.(*routeSeries)
		s.requests.Inc()
		s.latency.Observe(time.Since(start).Seconds())
	}
}

var statusClasses = [...]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClassOf(status int) int {
	if status < 100 || status > 599 {
		return 0
	}
	return status / 100
}

// TokenIssued counts an access token issued by grant.
func (m *Metrics) TokenIssued(grant string) {
	if m != nil {
		m.tokensIssued.WithLabelValues(grant).Inc()
	}
}

// AuthFailure counts a failed authentication of a kind.
func (m *Metrics) AuthFailure(kind string) {
	if m != nil {
		m.authFailures.WithLabelValues(kind).Inc()
	}
}

// RateLimited counts a refusal by the address, account or register limit.
func (m *Metrics) RateLimited(limit string) {
	if m != nil {
		m.rateLimited.WithLabelValues(limit).Inc()
	}
}

// CacheLookup counts a lookup in a named cache.
func (m *Metrics) CacheLookup(cache string, hit bool) {
	if m == nil {
		return
	}
	result := "miss"
	if hit {
		result = "hit"
	}
	m.cacheLookups.WithLabelValues(cache, result).Inc()
}

// ObserveDB records the latency of one repository operation.
func (m *Metrics) ObserveDB(operation string, start time.Time) {
	if m != nil {
		m.dbLatency.WithLabelValues(operation).Observe(time.Since(start).Seconds())
	}
}
