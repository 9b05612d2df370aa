package api

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/vaxport/vaxport/internal/vax"
)

// HandlerFunc is a handler that returns its error instead of writing it:
// decode, call a business package, encode, return. Its ServeHTTP writes a
// returned error with WriteError, so every surface reports errors the same
// way.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP calls f and writes its error, if any. An error returned after
// f has started the response cannot reach the client any more; it is
// logged instead.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tw := &trackingWriter{ResponseWriter: w}
	err := f(tw, r)
	if err == nil {
		return
	}
	if tw.started {
		loggerFrom(r.Context()).LogAttrs(r.Context(), slog.LevelError, "error after response started",
			slog.String("request_id", RequestID(r.Context())),
			slog.String("route", routeOf(r)),
			slog.String("err", err.Error()))
		return
	}
	WriteError(w, r, err)
}

// trackingWriter notes whether the response has started.
type trackingWriter struct {
	http.ResponseWriter
	started bool
}

func (w *trackingWriter) WriteHeader(status int) {
	// 1xx informational responses do not start the final response.
	if status >= 200 {
		w.started = true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (server-sent events) flush through.
func (w *trackingWriter) Flush() {
	w.started = true
	_ = http.NewResponseController(w.ResponseWriter).Flush() // not every writer can flush
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// NotFound answers requests no route matches: 404 in the error shape, or
// 405 with an Allow header when mux has the path under another method.
// Register it as the catch-all: mux.Handle("/", api.NotFound(mux)). mux may
// be nil (always 404).
func NotFound(mux *http.ServeMux) http.Handler {
	return HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if allow := allowedMethods(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeErrorBody(w, http.StatusMethodNotAllowed, ErrorBody{
				ErrorCode: codeMethodNotAllowed,
				Error:     "method " + r.Method + " not allowed here; allowed: " + strings.Join(allow, ", "),
			})
			return nil
		}
		return vax.Errorf(vax.NotFound, "no such endpoint")
	})
}

// allowedMethods lists the methods for which mux has a pattern naming that
// method and matching r's path.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	if mux == nil {
		return nil
	}
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		// Only a pattern naming the method counts: a catch-all without
		// one (like "/") matches every method and says nothing.
		if _, pattern := mux.Handler(probe); strings.HasPrefix(pattern, m+" ") {
			allow = append(allow, m)
		}
	}
	return allow
}
