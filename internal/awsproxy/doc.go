// Package awsproxy holds what every HTTP layer in front of an AWS-compatible
// endpoint (moto server) needs, so that each layer is a small http.Handler
// and the layers compose: client → faults → strict → moto for make stress,
// client → strict → moto elsewhere.
//
// It answers four questions once, for all of them:
//
//   - Which service, protocol and operation is this request for? Identify
//     reads the X-Amz-Target header (awsJson: DynamoDB, ECS, SSM, Logs, Step
//     Functions, KMS), the service of the SigV4 credential scope (ec2, sns,
//     iam, s3, guardduty, ...), and last the Action field of a query body.
//   - What did the client send? Prepare reads the body once and keeps it,
//     with the identified Service, in the request's context, so a later
//     layer does not read it again and the backend still gets it whole.
//   - How does this service say no? WriteError answers in the service's own
//     error shape (awsJson __type, restJson X-Amzn-ErrorType, awsQuery
//     ErrorResponse, ec2Query Response/Errors, restXml Error), which the
//     real SDK parses back into the same error code.
//   - How does a request reach the backend? Forwarder is the reverse proxy
//     at the end of every chain.
//
// Control paths (moto's /moto-api/ and the strict layer's /irflow-strict/)
// are never AWS requests: IsControlPath names them so layers pass them by.
package awsproxy
