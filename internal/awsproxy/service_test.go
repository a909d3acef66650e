package awsproxy

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestIdentifyFallbacks: the Action form field or the API version names the
// service of a query request without a credential scope.
func TestIdentifyFallbacks(t *testing.T) {
	for _, c := range []struct {
		body, want, proto string
	}{
		{"Action=DescribeInstances&Version=2016-11-15", "ec2", ProtoEC2},
		{"Action=Publish&Version=2010-03-31", "sns", ProtoQuery},
		{"Action=PutRolePolicy&Version=2010-05-08", "iam", ProtoQuery},
		{"Action=SetInstanceProtection&Version=2011-01-01", "autoscaling", ProtoQuery},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		s := Identify(r, []byte(c.body))
		if s.Name != c.want || s.Protocol != c.proto || s.Operation == "" {
			t.Errorf("%s: %+v; want %s over %s", c.body, s, c.want, c.proto)
		}
	}
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("X-Amz-Target", "DynamoDB_20120810.PutItem")
	if s := Identify(r, nil); s.Name != "dynamodb" || s.Protocol != ProtoJSON || s.Operation != "PutItem" {
		t.Errorf("X-Amz-Target only: %+v", s)
	}
}

// TestIdentifyScope: the SigV4 scope gives the service (GuardDuty's REST
// protocol included), the region and the access key moto maps to an account.
func TestIdentifyScope(t *testing.T) {
	auth := func(svc string) string {
		return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/eu-west-1/" + svc + "/aws4_request, SignedHeaders=host, Signature=00"
	}
	tests := []struct {
		name, svc, method, path, target string
		want                            Service
	}{
		{"guardduty", "guardduty", "GET", "/detector", "", Service{Name: "guardduty", Protocol: ProtoRESTJSON, Region: "eu-west-1", AccessKey: "AKIDEXAMPLE"}},
		{"ecs", "ecs", "POST", "/", "AmazonEC2ContainerServiceV20141113.StopTask", Service{Name: "ecs", Protocol: ProtoJSON, Operation: "StopTask", Region: "eu-west-1", AccessKey: "AKIDEXAMPLE"}},
		{"ec2", "ec2", "POST", "/", "", Service{Name: "ec2", Protocol: ProtoEC2, Operation: "DescribeVpcs", Region: "eu-west-1", AccessKey: "AKIDEXAMPLE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := ""
			if tt.svc == "ec2" {
				body = "Action=DescribeVpcs&Version=2016-11-15"
			}
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(body))
			r.Header.Set("Authorization", auth(tt.svc))
			if tt.target != "" {
				r.Header.Set("X-Amz-Target", tt.target)
			}
			if body != "" {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if got := Identify(r, []byte(body)); got != tt.want {
				t.Errorf("got %+v; want %+v", got, tt.want)
			}
		})
	}
}

// TestPrepareOnce: a second layer gets the body and the service without
// reading again, and every reader gets the whole body.
func TestPrepareOnce(t *testing.T) {
	body := "Action=DescribeVpcs&Version=2016-11-15"
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r, b1, s1, err := Prepare(r)
	if err != nil || string(b1) != body || s1.Name != "ec2" {
		t.Fatalf("first Prepare: %q %+v %v", b1, s1, err)
	}
	if got, _ := io.ReadAll(r.Body); string(got) != body {
		t.Fatalf("body after the first Prepare: %q", got)
	}
	r2, b2, s2, err := Prepare(r)
	if err != nil || !bytes.Equal(b1, b2) || s2 != s1 {
		t.Fatalf("second Prepare: %q %+v %v", b2, s2, err)
	}
	if got, _ := io.ReadAll(r2.Body); string(got) != body {
		t.Errorf("body after the second Prepare: %q", got)
	}
}

func TestIsControlPath(t *testing.T) {
	for path, want := range map[string]bool{
		"/moto-api/reset": true, "/moto-api": true, "/irflow-strict/refusals": true,
		"/": false, "/detector": false, "/moto-apix": false, "/bucket/moto-api/k": false,
	} {
		if got := IsControlPath(path); got != want {
			t.Errorf("IsControlPath(%q) = %v; want %v", path, got, want)
		}
	}
}

// TestForwarder: requests reach the backend whole; an unreachable backend is
// a 502 the SDK retries.
func TestForwarder(t *testing.T) {
	var got string
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = r.URL.Path + " " + string(b)
	}))
	defer be.Close()
	f, err := NewForwarder(be.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/x", strings.NewReader("payload"))
	r, _, _, _ = Prepare(r)
	rec := NewRecorder()
	f.ServeHTTP(rec, r)
	if !rec.OK() || got != "/x payload" {
		t.Errorf("backend got %q, HTTP %d", got, rec.Code)
	}
	dead, _ := NewForwarder("http://127.0.0.1:1", nil)
	rec = NewRecorder()
	dead.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusBadGateway {
		t.Errorf("unreachable backend: HTTP %d; want 502", rec.Code)
	}
}
