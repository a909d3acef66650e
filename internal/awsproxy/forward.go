package awsproxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"
)

// Forwarder is the end of every chain: an http.Handler that passes each
// request to the backend unchanged.
type Forwarder struct {
	rp *httputil.ReverseProxy
	// URL is the backend's base URL.
	URL *url.URL
}

// NewForwarder returns a Forwarder to backend (an absolute URL such as
// http://127.0.0.1:5000) over transport; nil is a pooled http.Transport.
func NewForwarder(backend string, transport http.RoundTripper) (*Forwarder, error) {
	u, err := url.Parse(backend)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("awsproxy: backend %q is not an absolute URL", backend)
	}
	if transport == nil {
		transport = &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        512,
			MaxIdleConnsPerHost: 512,
			IdleConnTimeout:     30 * time.Second,
		}
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = transport
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		// The backend is unreachable: a 502 the SDK retries.
		http.Error(w, "awsproxy: backend: "+err.Error(), http.StatusBadGateway)
	}
	return &Forwarder{rp: rp, URL: u}, nil
}

// ServeHTTP implements http.Handler.
func (f *Forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.rp.ServeHTTP(w, r) }

type preparedKey struct{}

type prepared struct {
	body []byte
	svc  Service
}

// Prepare reads r's body once, identifies its service, and returns a request
// that carries both in its context, with a body the next reader gets whole.
// On a request an earlier layer prepared it reads nothing: it rewinds the
// body and returns what that layer found.
func Prepare(r *http.Request) (*http.Request, []byte, Service, error) {
	if p, ok := r.Context().Value(preparedKey{}).(*prepared); ok {
		Rewind(r, p.body)
		return r, p.body, p.svc, nil
	}
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return r, nil, Service{}, err
		}
	}
	p := &prepared{body: body, svc: Identify(r, body)}
	r = r.WithContext(context.WithValue(r.Context(), preparedKey{}, p))
	Rewind(r, body)
	return r, body, p.svc, nil
}

// Rewind gives r a fresh reader over body, so it can be forwarded again.
func Rewind(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

// Recorder is an http.ResponseWriter that keeps the answer instead of
// sending it, so a layer can read, rewrite or drop what the backend said.
type Recorder struct {
	Code   int
	header http.Header
	Body   bytes.Buffer
}

// NewRecorder returns an empty Recorder; Code is 200 until WriteHeader.
func NewRecorder() *Recorder { return &Recorder{Code: http.StatusOK, header: http.Header{}} }

// Header implements http.ResponseWriter.
func (c *Recorder) Header() http.Header { return c.header }

// Write implements http.ResponseWriter.
func (c *Recorder) Write(b []byte) (int, error) { return c.Body.Write(b) }

// WriteHeader implements http.ResponseWriter.
func (c *Recorder) WriteHeader(code int) { c.Code = code }

// OK reports whether the backend accepted the request (HTTP 2xx).
func (c *Recorder) OK() bool { return c.Code >= 200 && c.Code < 300 }

// Send writes the recorded answer to w with body in place of the recorded
// one (nil sends the recorded body), fixing Content-Length.
func (c *Recorder) Send(w http.ResponseWriter, body []byte) {
	if body == nil {
		body = c.Body.Bytes()
	}
	h := w.Header()
	for k, v := range c.header {
		h[k] = v
	}
	h.Del("Content-Encoding")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(c.Code)
	_, _ = w.Write(body)
}

// Replace returns r with body in place of the body Prepare read, for a layer
// that forwards a rewritten request: the next layer's Prepare finds body,
// and the service is identified anew from it.
func Replace(r *http.Request, body []byte) *http.Request {
	r = r.WithContext(context.WithValue(r.Context(), preparedKey{}, &prepared{body: body, svc: Identify(r, body)}))
	Rewind(r, body)
	return r
}
