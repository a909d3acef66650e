package stress

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// motoCompat carries the proxy's forwarded requests to moto and papers over
// two gaps of moto 5.2 that would make steps fail with or without faults,
// exactly as the handlers' own moto tests do (tag-resources' ciShim,
// enable-flow-logs' prefixShim):
//
//   - ECS TagResource of a container instance is not implemented (HTTP 500
//     with an HTML page): it is answered 200 here and the tags are kept.
//   - EC2 CreateFlowLogs takes the whole "bucket/prefix/" of an S3
//     LogDestination for a bucket name ("does not exist"): the prefix is cut
//     before moto sees it.
//
// Everything else passes unchanged. Faults are decided before this, so
// these requests are faulted like any other.
type motoCompat struct {
	next http.RoundTripper

	mu   sync.Mutex
	tags map[string]map[string]string // container instance ARN → tags

	tagged, flowLogs atomic.Int64
}

func newMotoCompat() *motoCompat {
	return &motoCompat{
		next: &http.Transport{Proxy: nil, MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: 30 * time.Second},
		tags: map[string]map[string]string{},
	}
}

func (m *motoCompat) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil {
		return m.next.RoundTrip(r)
	}
	switch {
	case r.Header.Get("X-Amz-Target") == "AmazonEC2ContainerServiceV20141113.TagResource":
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		var in struct {
			ResourceArn string `json:"resourceArn"`
			Tags        []struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"tags"`
		}
		if json.Unmarshal(body, &in) == nil && strings.Contains(in.ResourceArn, ":container-instance/") {
			m.mu.Lock()
			if m.tags[in.ResourceArn] == nil {
				m.tags[in.ResourceArn] = map[string]string{}
			}
			for _, t := range in.Tags {
				m.tags[in.ResourceArn][t.Key] = t.Value
			}
			m.mu.Unlock()
			m.tagged.Add(1)
			return answer(r, "application/x-amz-json-1.1", "{}"), nil
		}
		setBody(r, body)
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		if bytes.Contains(body, []byte("Action=CreateFlowLogs")) {
			if form, err := url.ParseQuery(string(body)); err == nil {
				if d := form.Get("LogDestination"); strings.HasPrefix(d, "arn:aws:s3:::") && strings.Contains(strings.TrimPrefix(d, "arn:aws:s3:::"), "/") {
					bucket, _, _ := strings.Cut(strings.TrimPrefix(d, "arn:aws:s3:::"), "/")
					form.Set("LogDestination", "arn:aws:s3:::"+bucket)
					body = []byte(form.Encode())
					m.flowLogs.Add(1)
				}
			}
		}
		setBody(r, body)
	}
	return m.next.RoundTrip(r)
}

func setBody(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

func answer(r *http.Request, contentType, body string) *http.Response {
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {contentType}, "X-Amzn-Requestid": {"motocompat"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}
}
