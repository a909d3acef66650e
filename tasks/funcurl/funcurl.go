// Package funcurl is what the approval and start APIs behind their
// IAM-authenticated function URLs share: reading a request (its method and
// path, its body), answering it, and, for their tests and the CLI's,
// building one (the method and path, the body, and the caller the
// signature proved).
package funcurl

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Request is method path with body as a function URL delivers it; caller
// (an IAM principal ARN of account) is who signed it, none when "".
func Request(method, path, body, caller, account string) events.LambdaFunctionURLRequest {
	req := events.LambdaFunctionURLRequest{Version: "2.0", RawPath: path, Body: body,
		RequestContext: events.LambdaFunctionURLRequestContext{HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: method, Path: path}}}
	if caller != "" {
		req.RequestContext.Authorizer = &events.LambdaFunctionURLRequestContextAuthorizerDescription{
			IAM: &events.LambdaFunctionURLRequestContextAuthorizerIAMDescription{UserARN: caller, AccountID: account}}
	}
	return req
}

// Route is the request's method, upper-cased, and its path without a
// trailing slash (the raw path, or the HTTP context's when that is empty).
func Route(req events.LambdaFunctionURLRequest) (method, path string) {
	method = strings.ToUpper(req.RequestContext.HTTP.Method)
	path = strings.TrimSuffix(req.RawPath, "/")
	if path == "" {
		path = strings.TrimSuffix(req.RequestContext.HTTP.Path, "/")
	}
	return method, path
}

// Response is the answer status with a JSON body, never to be cached.
func Response(status int, body []byte) events.LambdaFunctionURLResponse {
	return events.LambdaFunctionURLResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       string(body),
	}
}

// Decode reads the request's JSON body (base64-decoded when Lambda encoded
// it, at most max bytes) into v strictly: unknown fields are refused, so a
// typo is not taken for a missing field. It returns "" or why the body is
// refused: it is not base64 though marked so, it is too long, or (invalid,
// given encoding/json's error) it is not the JSON wanted.
func Decode(req events.LambdaFunctionURLRequest, max int, v any, invalid func(error) string) string {
	raw := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return "the body is not valid base64"
		}
		raw = b
	}
	if len(raw) > max {
		return fmt.Sprintf("the body is %d bytes; at most %d", len(raw), max)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid(err)
	}
	return ""
}
