package hostcmdtest

import (
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Uploads is an HTTP server standing in for S3 presigned PUTs: it stores
// each body as a new version of its key in Objects (which Bind reads back)
// and, like S3 for a bucket with Object Lock, refuses a PUT without a
// matching Content-MD5.
type Uploads struct {
	*httptest.Server
	// Objects holds what was uploaded, versioned.
	Objects *FakeObjects
	mu      sync.Mutex
	files   map[string][]byte
	puts    int
}

// NewUploads starts the server; the test closes it.
func NewUploads(t testing.TB) *Uploads {
	u := &Uploads{Objects: &FakeObjects{}, files: map[string][]byte{}}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.Close)
	return u
}

// URL returns a presigned-looking URL for key.
func (u *Uploads) URL(key string) string {
	return u.Server.URL + "/" + key + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=0123abcd"
}

// Serve makes GET /name answer body (a tool download).
func (u *Uploads) Serve(name string, body []byte) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.files[name] = body
	return u.Server.URL + "/" + name
}

// Object returns the newest stored body of key.
func (u *Uploads) Object(key string) ([]byte, bool) { return u.Objects.Latest(key) }

// Puts counts accepted uploads.
func (u *Uploads) Puts() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.puts
}

func (u *Uploads) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		u.mu.Lock()
		b, ok := u.files[strings.TrimPrefix(r.URL.Path, "/")]
		u.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
		return
	}
	if r.Method != http.MethodPut {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sum := md5.Sum(body)
	if r.Header.Get("Content-MD5") != base64.StdEncoding.EncodeToString(sum[:]) {
		http.Error(w, "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters", http.StatusBadRequest)
		return
	}
	u.Objects.Put(strings.TrimPrefix(r.URL.Path, "/"), body)
	u.mu.Lock()
	u.puts++
	u.mu.Unlock()
}
