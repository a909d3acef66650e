// Package gdfake serves guardduty:GetFindings over HTTP from findings it is
// given, for tests and local benches: moto server 5.2.5 has no GuardDuty,
// and resolve-target confirms every finding it responds to. Point a
// GuardDuty client at it with Client (or AWS_ENDPOINT_URL_GUARDDUTY); it
// answers POST /detector/{detectorId}/findings/get in the REST-JSON shape
// of the API (https://docs.aws.amazon.com/guardduty/latest/APIReference/API_GetFindings.html)
// with the fields irflow compares, and BadRequestException for a detector
// it does not know. Until the strict AWS layer serves GetFindings, this is
// the only GuardDuty irflow meets outside AWS.
package gdfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
)

// Server is a GuardDuty that knows a few findings.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	findings map[string]map[string]map[string]any // detector → id → finding
	// Requests counts GetFindings calls.
	Requests int
}

// New starts a server; Close it when done.
func New() *Server {
	s := &Server{findings: map[string]map[string]map[string]any{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Detector registers a detector with no findings.
func (s *Server) Detector(detector string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.findings[detector] == nil {
		s.findings[detector] = map[string]map[string]any{}
	}
}

// AddEvent registers the finding of an EventBridge GuardDuty event (its
// detail is the finding in the API's JSON shape) under detector.
func (s *Server) AddEvent(detector string, event []byte) error {
	var ev struct {
		Detail map[string]any `json:"detail"`
	}
	if err := json.Unmarshal(event, &ev); err != nil || ev.Detail == nil {
		return fmt.Errorf("gdfake: not an EventBridge GuardDuty event: %v", err)
	}
	id, _ := ev.Detail["id"].(string)
	if id == "" {
		return fmt.Errorf("gdfake: the event's detail has no id")
	}
	s.Detector(detector)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.findings[detector][id] = project(ev.Detail)
	return nil
}

// project keeps what GetFindings' answer needs and drops timestamps the
// API writes as epoch numbers (the event writes them as text).
func project(d map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"accountId", "arn", "id", "type", "region", "partition", "severity", "title", "description",
		"createdAt", "updatedAt", "schemaVersion"} {
		if v, ok := d[k]; ok {
			out[k] = v
		}
	}
	res, _ := d["resource"].(map[string]any)
	if res == nil {
		return out
	}
	r := map[string]any{"resourceType": res["resourceType"]}
	if ecs, ok := res["ecsClusterDetails"].(map[string]any); ok {
		e := map[string]any{"name": ecs["name"], "arn": ecs["arn"], "status": ecs["status"]}
		if td, ok := ecs["taskDetails"].(map[string]any); ok {
			e["taskDetails"] = map[string]any{"arn": td["arn"], "definitionArn": td["definitionArn"], "launchType": td["launchType"],
				"group": td["group"], "startedBy": td["startedBy"]}
		}
		r["ecsClusterDetails"] = e
	}
	if inst, ok := res["instanceDetails"].(map[string]any); ok {
		r["instanceDetails"] = map[string]any{"instanceId": inst["instanceId"]} // a host finding (resourceType Instance)
	}
	out["resource"] = r
	return out
}

var route = regexp.MustCompile(`^/detector/([^/]+)/findings/get$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := route.FindStringSubmatch(r.URL.Path)
	if r.Method != http.MethodPost || m == nil {
		apiError(w, http.StatusNotFound, "NotFoundException", "gdfake serves only GetFindings")
		return
	}
	s.Requests++
	var in struct {
		FindingIDs []string `json:"findingIds"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		apiError(w, http.StatusBadRequest, "BadRequestException", "the body is not JSON")
		return
	}
	byID, ok := s.findings[m[1]]
	if !ok {
		apiError(w, http.StatusBadRequest, "BadRequestException", "The request is rejected because the input detectorId is not owned by the current account.")
		return
	}
	found := []map[string]any{}
	for _, id := range in.FindingIDs {
		if f, ok := byID[id]; ok {
			found = append(found, f)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"findings": found})
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg, "__type": code})
}

// Client returns a GuardDuty client of cfg (credentials, region, retryer)
// that calls this server.
func (s *Server) Client(cfg aws.Config) *guardduty.Client {
	return guardduty.NewFromConfig(cfg, func(o *guardduty.Options) { o.BaseEndpoint = aws.String(s.URL) })
}
