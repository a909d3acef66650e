package faultproxy

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
)

// Protocols of the AWS APIs irflow calls.
const (
	ProtoJSON    = "awsJson"  // X-Amz-Target + application/x-amz-json-1.x
	ProtoQuery   = "awsQuery" // Action=…&Version=… form, <ErrorResponse>
	ProtoEC2     = "ec2Query" // the same form, <Response><Errors>
	ProtoRESTXML = "restXml"  // S3
)

// Service is the AWS service a request is for and its protocol.
type Service struct {
	Name     string // the SigV4 signing name: dynamodb, ecs, ec2, sns, s3, ...
	Protocol string
	// Operation is the API operation when the request names it (the
	// X-Amz-Target's or the Action field's), else "".
	Operation string
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

var scopeRE = regexp.MustCompile(`Credential=[^/,\s]+/\d{8}/[^/,\s]+/([^/,\s]+)/aws4_request`)

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
		if s.Protocol == "" || s.Name == "" {
			s.Name = m[1]
		} else if s.Protocol == ProtoJSON {
			s.Name = m[1] // the scope is authoritative when both are present
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

// Fault is one error answer: status, error code and message.
type Fault struct {
	Status  int
	Code    string
	Message string
}

// ThrottleFault is the service's own throttling error: what the service
// documents, and what the SDK's retryer treats as a throttle.
func ThrottleFault(s Service) Fault {
	switch s.Name {
	case "ec2":
		return Fault{http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded."}
	case "s3":
		return Fault{http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."}
	case "sns":
		// SNS's modeled ThrottledException (error code "Throttled", HTTP 400).
		return Fault{http.StatusBadRequest, "Throttled", "Rate exceeded"}
	}
	if s.Protocol == ProtoJSON {
		return Fault{http.StatusBadRequest, "ThrottlingException", "Rate exceeded"}
	}
	return Fault{http.StatusBadRequest, "Throttling", "Rate exceeded"}
}

// ServerFault is the service's own internal error (HTTP 500).
func ServerFault(s Service) Fault {
	switch {
	case s.Name == "dynamodb":
		return Fault{http.StatusInternalServerError, "InternalServerError", "Internal server error"}
	case s.Name == "ecs":
		return Fault{http.StatusInternalServerError, "ServerException", "Service unavailable, please retry"}
	case s.Protocol == ProtoEC2 || s.Protocol == ProtoRESTXML:
		return Fault{http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."}
	case s.Name == "sns":
		return Fault{http.StatusInternalServerError, "InternalError", "Internal error"}
	}
	return Fault{http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error."}
}

// jsonNamespaces are the shape namespaces some JSON services put in __type.
var jsonNamespaces = map[string]string{"dynamodb": "com.amazonaws.dynamodb.v20120810#"}

var requestIDs atomic.Int64

// writeFault answers r with the fault of kind in the service's protocol.
func writeFault(w http.ResponseWriter, r *http.Request, s Service, kind string) {
	f := ServerFault(s)
	if kind == KindThrottle {
		f = ThrottleFault(s)
	}
	id := fmt.Sprintf("faultproxy-%08d", requestIDs.Add(1))
	h := w.Header()
	h.Set("X-Amzn-RequestId", id)
	h.Set("X-Irflow-Fault", kind)
	var body string
	switch s.Protocol {
	case ProtoJSON:
		ct := r.Header.Get("Content-Type")
		if !strings.HasPrefix(ct, "application/x-amz-json-") {
			ct = "application/x-amz-json-1.1"
		}
		h.Set("Content-Type", ct)
		b, _ := json.Marshal(map[string]string{"__type": jsonNamespaces[s.Name] + f.Code, "message": f.Message})
		body = string(b)
	case ProtoEC2:
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			f.Code, html.EscapeString(f.Message), id)
	case ProtoRESTXML:
		h.Set("Content-Type", "application/xml")
		h.Set("X-Amz-Request-Id", id)
		body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId><HostId>faultproxy</HostId></Error>`,
			f.Code, html.EscapeString(f.Message), id)
	default:
		typ := "Sender"
		if f.Status >= 500 {
			typ = "Receiver"
		}
		h.Set("Content-Type", "text/xml")
		body = fmt.Sprintf(`<ErrorResponse xmlns="https://%s.amazonaws.com/doc/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			s.Name, typ, f.Code, html.EscapeString(f.Message), id)
	}
	w.WriteHeader(f.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}
