// Package funcurl builds the requests Lambda hands the approval and start
// APIs behind their IAM-authenticated function URLs, for their tests and
// the CLI's: the method and path, the body, and the caller the signature
// proved.
package funcurl

import "github.com/aws/aws-lambda-go/events"

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
