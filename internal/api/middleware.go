package api

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vaxport/vaxport/internal/metrics"
	"github.com/vaxport/vaxport/internal/vax"
)

// MaxBodyBytes caps every request body: 10 MiB, room for a CSV import.
// JSON bodies are held to MaxJSONBytes by DecodeJSON.
const MaxBodyBytes = 10 << 20

// errPanic stands for a recovered panic in the error vocabulary.
var errPanic = errors.New("panic")

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// RequestID returns the request id Middleware put in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// loggerFrom returns the logger Middleware put in ctx, or slog's default.
func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// Middleware returns the wrapper every vaxport handler tree runs in. Per
// request it:
//   - takes a sane incoming X-Request-Id (1–64 of [A-Za-z0-9._-]) or makes
//     one, echoes it in the response and puts it in the context (RequestID);
//   - caps the body at MaxBodyBytes;
//   - turns a panic into a logged 500 in the error shape;
//   - logs one access line (method, route pattern, status, bytes, duration,
//     request id) — never the path or query string, which can carry
//     personal data;
//   - counts vaxport_http_requests_total{route,method,code} and observes
//     vaxport_http_request_duration_seconds{route,method}.
//
// The route is the ServeMux pattern that matched (without its method),
// "unmatched" when none did. logger nil discards logs; reg nil skips
// metrics. Calling Middleware twice with one registry shares the metrics.
// It panics only if reg holds different metrics under the same names.
func Middleware(logger *slog.Logger, reg prometheus.Registerer) func(http.Handler) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := newHTTPMetrics(reg)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get("X-Request-Id")
			if !validRequestID(id) {
				id = rand.Text()
			}
			w.Header().Set("X-Request-Id", id)
			ctx := context.WithValue(r.Context(), requestIDKey, id)
			ctx = context.WithValue(ctx, loggerKey, logger)
			// ServeMux records the matched pattern on the request it is
			// given, so keep this pointer to read r.Pattern afterwards.
			r = r.WithContext(ctx)
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
			}
			sw := &statusWriter{ResponseWriter: w}

			defer func() {
				p := recover()
				aborted := false
				if p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					logger.LogAttrs(ctx, slog.LevelError, "panic serving request",
						slog.String("request_id", id),
						slog.String("route", routeOf(r)),
						slog.String("panic", fmt.Sprint(p)),
						slog.String("stack", string(debug.Stack())))
					if sw.wroteHeader {
						// The response had started: abort the connection
						// (below) so the client sees a failure, not a
						// truncated success.
						aborted = true
					} else {
						writeErrorBody(sw, http.StatusInternalServerError, ErrorBody{
							ErrorCode: errorMapping[vax.Internal].code,
							Error:     vax.ErrorMessage(errPanic),
						})
					}
				}
				status := sw.status
				if status == 0 {
					status = http.StatusOK
				}
				route, method, elapsed := routeOf(r), methodLabel(r.Method), time.Since(start)
				logger.LogAttrs(ctx, slog.LevelInfo, "http request",
					slog.String("method", method),
					slog.String("route", route),
					slog.Int("status", status),
					slog.Int64("bytes", sw.bytes),
					slog.Duration("duration", elapsed),
					slog.String("request_id", id))
				m.observe(route, method, status, elapsed)
				if aborted {
					panic(http.ErrAbortHandler)
				}
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// validRequestID accepts ids a proxy or client might send without letting
// arbitrary text into the logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// routeOf returns r's ServeMux pattern without the method, or "unmatched".
func routeOf(r *http.Request) string {
	p := r.Pattern
	if p == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = strings.TrimLeft(p[i:], " \t")
	}
	return p
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// statusWriter records the status and body size of a response.
type statusWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wroteHeader && status >= 200 {
		w.status = status
		w.wroteHeader = true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers (server-sent events) flush through.
func (w *statusWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush() // not every writer can flush
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	if reg == nil {
		return nil
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vaxport_http_requests_total",
		Help: "HTTP requests served, by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vaxport_http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by route pattern and method.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method"})
	return &httpMetrics{
		requests: metrics.Register(reg, requests),
		duration: metrics.Register(reg, duration),
	}
}

func (m *httpMetrics) observe(route, method string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(elapsed.Seconds())
}
