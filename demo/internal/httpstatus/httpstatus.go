// Package httpstatus records the status code a handler answered, for the
// demo services' metrics.
package httpstatus

import "net/http"

// Recorder wraps a ResponseWriter and remembers the first status written.
type Recorder struct {
	http.ResponseWriter
	Code int // 0 until the handler writes a header or a body
}

// WriteHeader records code (the first one wins) and passes it on.
func (w *Recorder) WriteHeader(code int) {
	if w.Code == 0 {
		w.Code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 when no header was written.
func (w *Recorder) Write(b []byte) (int, error) {
	if w.Code == 0 {
		w.Code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController and ReverseProxy reach the
// underlying writer (to flush, for one).
func (w *Recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
