package awsproxy

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Protocols of the AWS APIs irflow calls.
const (
	ProtoJSON     = "awsJson"  // X-Amz-Target + application/x-amz-json-1.x
	ProtoQuery    = "awsQuery" // Action=…&Version=… form, <ErrorResponse>
	ProtoEC2      = "ec2Query" // the same form, <Response><Errors>
	ProtoRESTXML  = "restXml"  // S3
	ProtoRESTJSON = "restJson" // GuardDuty: method and path name the operation
)

// Service is the AWS service a request is for and its protocol.
type Service struct {
	Name     string // the SigV4 signing name: dynamodb, ecs, ec2, sns, s3, guardduty, ...
	Protocol string
	// Operation is the API operation when the request names it (the
	// X-Amz-Target's or the Action field's), else "". REST protocols name
	// it by method and path, which only the layer serving them decodes.
	Operation string
	// Region is the SigV4 scope's region, "" when the request is unsigned.
	Region string
	// AccessKey is the SigV4 credential's access key ID (moto maps it to an
	// account), "" when the request is unsigned.
	AccessKey string
}

// targetServices maps X-Amz-Target prefixes to signing names.
var targetServices = map[string]string{
	"DynamoDB_20120810":                  "dynamodb",
	"DynamoDBStreams_20120810":           "dynamodb",
	"AmazonEC2ContainerServiceV20141113": "ecs",
	"AmazonSSM":                          "ssm",
	"Logs_20140328":                      "logs",
	"AWSStepFunctions":                   "states",
	"TrentService":                       "kms",
}

// queryServices are the signing names of the awsQuery protocol.
var queryServices = map[string]bool{"sns": true, "iam": true, "autoscaling": true, "sts": true, "cloudformation": true, "sqs": true}

// restJSONServices are the signing names of the restJson protocol.
var restJSONServices = map[string]bool{"guardduty": true}

var scopeRE = regexp.MustCompile(`Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request`)

// Identify names the service and protocol of an AWS API request whose body
// has been read into body.
func Identify(r *http.Request, body []byte) Service {
	var s Service
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		prefix, op, _ := strings.Cut(t, ".")
		s = Service{Name: targetServices[prefix], Protocol: ProtoJSON, Operation: op}
		if s.Name == "" {
			s.Name = strings.ToLower(prefix)
		}
	}
	if m := scopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		s.AccessKey, s.Region = m[1], m[2]
		if s.Protocol == "" || s.Name == "" {
			s.Name = m[3]
		} else if s.Protocol == ProtoJSON {
			s.Name = m[3] // the scope is authoritative when both are present
		}
	}
	if s.Protocol == "" {
		form := formOf(r, body)
		s.Operation = form.Get("Action")
		switch {
		case s.Name == "ec2":
			s.Protocol = ProtoEC2
		case s.Name == "s3":
			s.Protocol = ProtoRESTXML
		case restJSONServices[s.Name]:
			s.Protocol, s.Operation = ProtoRESTJSON, ""
		case queryServices[s.Name]:
			s.Protocol = ProtoQuery
		case s.Name == "" && s.Operation != "":
			// Unsigned or oddly signed: guess from the API version of the form.
			s.Name, s.Protocol = serviceOfVersion(form.Get("Version"))
		case s.Name == "":
			s.Name, s.Protocol = "s3", ProtoRESTXML
		default:
			s.Protocol = ProtoQuery
		}
	}
	return s
}

// Form returns the parameters of a query-protocol request (ec2Query,
// awsQuery): the form body, or the URL query of a GET.
func Form(r *http.Request, body []byte) url.Values { return formOf(r, body) }

func formOf(r *http.Request, body []byte) url.Values {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if v, err := url.ParseQuery(string(body)); err == nil {
			return v
		}
	}
	return r.URL.Query()
}

// serviceOfVersion maps a query API version to its service.
func serviceOfVersion(v string) (string, string) {
	switch v {
	case "2016-11-15":
		return "ec2", ProtoEC2
	case "2010-03-31":
		return "sns", ProtoQuery
	case "2010-05-08":
		return "iam", ProtoQuery
	case "2011-01-01":
		return "autoscaling", ProtoQuery
	case "2011-06-15":
		return "sts", ProtoQuery
	}
	return "unknown", ProtoQuery
}

// IsControlPath reports whether path belongs to a control API rather than
// to AWS: moto's /moto-api/ and the strict layer's /irflow-strict/. Layers
// pass these by untouched.
func IsControlPath(path string) bool {
	for _, p := range []string{"/moto-api", "/irflow-strict"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}
