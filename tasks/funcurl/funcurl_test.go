package funcurl

import (
	"encoding/base64"
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
	invalid := func(err error) string { return "invalid: " + err.Error() }
	tests := []struct {
		name    string
		req     events.LambdaFunctionURLRequest
		max     int
		want    string // the field decoded
		refusal string // why the body is refused, "" when it is not
	}{
		{"plain", events.LambdaFunctionURLRequest{Body: `{"a":"x"}`}, 64, "x", ""},
		{"base64", events.LambdaFunctionURLRequest{Body: base64.StdEncoding.EncodeToString([]byte(`{"a":"y"}`)), IsBase64Encoded: true}, 64, "y", ""},
		{"bad base64", events.LambdaFunctionURLRequest{Body: "!!", IsBase64Encoded: true}, 64, "", "the body is not valid base64"},
		{"too long", events.LambdaFunctionURLRequest{Body: `{"a":"` + strings.Repeat("z", 20) + `"}`}, 16, "", "the body is 28 bytes; at most 16"},
		{"unknown field", events.LambdaFunctionURLRequest{Body: `{"b":1}`}, 64, "", `invalid: json: unknown field "b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b body
			got := Decode(tt.req, tt.max, &b, invalid)
			if got != tt.refusal || b.A != tt.want {
				t.Errorf("Decode = %q, a=%q; want %q, a=%q", got, b.A, tt.refusal, tt.want)
			}
		})
	}
}
