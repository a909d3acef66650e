package funcurl

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestRoute(t *testing.T) {
	req := Request("post", "/start/", "", "", "")
	if m, p := Route(req); m != "POST" || p != "/start" {
		t.Errorf("Route = %q %q, want POST /start", m, p)
	}
	req.RawPath = ""
	req.RequestContext.HTTP.Path = "/approvals/apr-1/"
	if _, p := Route(req); p != "/approvals/apr-1" {
		t.Errorf("Route path from the HTTP context = %q", p)
	}
}

func TestResponse(t *testing.T) {
	r := Response(409, []byte(`{"code":"x"}`))
	if r.StatusCode != 409 || r.Body != `{"code":"x"}` || r.Headers["Content-Type"] != "application/json" || r.Headers["Cache-Control"] != "no-store" {
		t.Errorf("Response = %+v", r)
	}
}

func TestDecode(t *testing.T) {
	type body struct {
		A string `json:"a"`
	}
	tests := []struct {
		name    string
		req     events.LambdaFunctionURLRequest
		max     int
		want    string
		bodyErr string // the *BodyError's message, or "" for none
		jsonErr bool
	}{
		{"plain", events.LambdaFunctionURLRequest{Body: `{"a":"x"}`}, 64, "x", "", false},
		{"base64", events.LambdaFunctionURLRequest{Body: base64.StdEncoding.EncodeToString([]byte(`{"a":"y"}`)), IsBase64Encoded: true}, 64, "y", "", false},
		{"bad base64", events.LambdaFunctionURLRequest{Body: "!!", IsBase64Encoded: true}, 64, "", "the body is not valid base64", false},
		{"too long", events.LambdaFunctionURLRequest{Body: `{"a":"` + strings.Repeat("z", 20) + `"}`}, 16, "", "the body is 28 bytes; at most 16", false},
		{"unknown field", events.LambdaFunctionURLRequest{Body: `{"b":1}`}, 64, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b body
			err := Decode(tt.req, tt.max, &b)
			var be *BodyError
			switch {
			case tt.bodyErr != "":
				if !errors.As(err, &be) || be.Error() != tt.bodyErr {
					t.Fatalf("Decode error = %v, want body error %q", err, tt.bodyErr)
				}
			case tt.jsonErr:
				if err == nil || errors.As(err, &be) {
					t.Fatalf("Decode error = %v, want encoding/json's", err)
				}
			case err != nil || b.A != tt.want:
				t.Fatalf("Decode = %v, %+v; want a=%q", err, b, tt.want)
			}
		})
	}
}
