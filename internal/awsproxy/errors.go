package awsproxy

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
)

// Error is one error answer: the HTTP status, the service's error code and
// its message.
type Error struct {
	Status  int
	Code    string
	Message string
	// Fields are extra members of a JSON error body (awsJson, restJson),
	// e.g. GuardDuty's "__type" sub-code beside its X-Amzn-ErrorType.
	Fields map[string]string
}

// Error implements error, so a layer can return one from a helper.
func (e Error) Error() string { return e.Code + ": " + e.Message }

// jsonNamespaces are the shape namespaces some JSON services put in __type.
var jsonNamespaces = map[string]string{"dynamodb": "com.amazonaws.dynamodb.v20120810#"}

var requestIDs atomic.Int64

// RequestID returns a fresh request ID for an answer a layer writes itself.
func RequestID() string { return fmt.Sprintf("irflow-%08d", requestIDs.Add(1)) }

// WriteError answers r with e in the protocol shape of service s, the way
// the service itself would, so that the SDK parses e.Code back.
func WriteError(w http.ResponseWriter, r *http.Request, s Service, e Error) {
	id := RequestID()
	h := w.Header()
	h.Set("X-Amzn-RequestId", id)
	var body string
	switch s.Protocol {
	case ProtoJSON, ProtoRESTJSON:
		m := map[string]string{"message": e.Message}
		if s.Protocol == ProtoJSON {
			m["__type"] = jsonNamespaces[s.Name] + e.Code
		} else {
			h.Set("X-Amzn-ErrorType", e.Code)
		}
		for k, v := range e.Fields {
			m[k] = v
		}
		ct := r.Header.Get("Content-Type")
		switch {
		case s.Protocol == ProtoRESTJSON:
			ct = "application/json"
		case !strings.HasPrefix(ct, "application/x-amz-json-"):
			ct = "application/x-amz-json-1.1"
		}
		h.Set("Content-Type", ct)
		b, _ := json.Marshal(m)
		body = string(b)
	case ProtoEC2:
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			e.Code, html.EscapeString(e.Message), id)
	case ProtoRESTXML:
		h.Set("Content-Type", "application/xml")
		h.Set("X-Amz-Request-Id", id)
		body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId><HostId>irflow</HostId></Error>`,
			e.Code, html.EscapeString(e.Message), id)
	default:
		typ := "Sender"
		if e.Status >= 500 {
			typ = "Receiver"
		}
		h.Set("Content-Type", "text/xml")
		body = fmt.Sprintf(`<ErrorResponse xmlns="https://%s.amazonaws.com/doc/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			s.Name, typ, e.Code, html.EscapeString(e.Message), id)
	}
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}

var (
	xmlCodeRE = regexp.MustCompile(`<Code>([^<]*)</Code>`)
	xmlMsgRE  = regexp.MustCompile(`<Message>([^<]*)</Message>`)
)

// ParseError reads the error code and message out of an error answer in
// service s's protocol (a backend's or a layer's): what the SDK would report
// as ErrorCode and ErrorMessage. ok is false when the answer is a success or
// names no code.
func ParseError(s Service, status int, header http.Header, body []byte) (code, message string, ok bool) {
	if status < 300 {
		return "", "", false
	}
	switch s.Protocol {
	case ProtoJSON, ProtoRESTJSON:
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		str := func(k string) string { v, _ := m[k].(string); return v }
		code = header.Get("X-Amzn-ErrorType")
		for _, k := range []string{"__type", "code", "Code"} {
			if code == "" {
				code = str(k)
			}
		}
		message = str("message")
		if message == "" {
			message = str("Message")
		}
	default:
		if m := xmlCodeRE.FindSubmatch(body); m != nil {
			code = html.UnescapeString(string(m[1]))
		}
		if m := xmlMsgRE.FindSubmatch(body); m != nil {
			message = html.UnescapeString(string(m[1]))
		}
	}
	// "ns#Code" (awsJson) and "Code:http://..." (restJson headers) name Code.
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	code, _, _ = strings.Cut(code, ":")
	return code, message, code != ""
}
