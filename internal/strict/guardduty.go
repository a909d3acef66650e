package strict

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/irflow/irflow/internal/awsproxy"
)

// findingStore holds GuardDuty findings per account, region and detector:
// moto has no GuardDuty findings API. Findings enter through the control
// API (the detail of the EventBridge events the harness emits, which has
// the shape of the API's Finding) and leave through GetFindings.
type findingStore struct {
	mu     sync.Mutex
	scopes map[string]map[string]*detectorFindings // "account region" → detector ID
	// admins are the GuardDuty administrators' detectors, by "account
	// region": "Users of the administrator account can ... view and manage
	// GuardDuty findings for their own account and all of their member
	// accounts" (GuardDuty concepts and terminology,
	// https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_concepts.html),
	// and GetFindings on the administrator's detector returns them.
	admins map[string]*administrator
}

// administrator is an account's detector in a region and the member
// accounts whose findings it sees there. GuardDuty is regional: one
// detector per account and region, so the administrator's detector also
// holds the account's own findings.
type administrator struct {
	detector string
	members  map[string]bool
}

// Administrator is the body of POST /irflow-strict/guardduty-administrator:
// Account's Detector in Region administers Members (GuardDuty's delegated
// administrator with Organizations, or invitations accepted).
type Administrator struct {
	Account  string   `json:"account"`
	Region   string   `json:"region"`
	Detector string   `json:"detectorId"`
	Members  []string `json:"members"`
}

// administer records an administrator; members add up across calls.
func (s *findingStore) administer(a Administrator) error {
	if a.Account == "" || a.Region == "" || a.Detector == "" {
		return fmt.Errorf("an administrator needs account, region and detectorId")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admins == nil {
		s.admins = map[string]*administrator{}
	}
	key := a.Account + " " + a.Region
	ad := s.admins[key]
	if ad == nil || ad.detector != a.Detector {
		ad = &administrator{detector: a.Detector, members: map[string]bool{}}
		s.admins[key] = ad
	}
	for _, m := range a.Members {
		if m == a.Account {
			// "An AWS account can't be a GuardDuty administrator account and
			// member account at the same time" (concepts and terminology).
			return fmt.Errorf("account %s cannot be its own GuardDuty member", m)
		}
		ad.members[m] = true
	}
	return nil
}

type detectorFindings struct {
	order []string
	byID  map[string]json.RawMessage
}

// put stores one finding under the account, region and detector its own
// fields name (accountId, region, and the detector in its arn).
func (s *findingStore) put(raw json.RawMessage) error {
	var f struct {
		ID, AccountID, Region, Arn string
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("a finding is not a JSON object: %w", err)
	}
	// arn:aws:guardduty:REGION:ACCOUNT:detector/DETECTOR/finding/ID
	_, rest, ok := strings.Cut(f.Arn, ":detector/")
	det, _, _ := strings.Cut(rest, "/")
	if f.ID == "" || f.AccountID == "" || f.Region == "" || !ok || det == "" {
		return fmt.Errorf("finding %q needs id, accountId, region and an arn naming its detector (arn:aws:guardduty:region:account:detector/ID/finding/ID)", f.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.scopes == nil {
		s.scopes = map[string]map[string]*detectorFindings{}
	}
	scope := f.AccountID + " " + f.Region
	if s.scopes[scope] == nil {
		s.scopes[scope] = map[string]*detectorFindings{}
	}
	d := s.scopes[scope][det]
	if d == nil {
		d = &detectorFindings{byID: map[string]json.RawMessage{}}
		s.scopes[scope][det] = d
	}
	if _, dup := d.byID[f.ID]; !dup {
		d.order = append(d.order, f.ID)
	}
	api, err := apiShape(raw)
	if err != nil {
		return fmt.Errorf("finding %q: %w", f.ID, err)
	}
	d.byID[f.ID] = api
	return nil
}

// apiTimestamps are the JSON names of the fields GuardDuty's API model types
// as timestamps (aws-sdk-go-v2 service/guardduty types: every *time.Time).
// restJson1 sends a timestamp as epoch seconds unless the model says
// otherwise ("Timestamp formats", Smithy's timestampFormat trait: the
// default for a restJson1 body is epoch-seconds), while the finding of an
// EventBridge event carries ISO 8601 strings; a GetFindings answer that
// passed the event's strings on would not deserialize in any SDK. The
// Finding's own createdAt and updatedAt are strings in the API too, so only
// nested fields are converted.
var apiTimestamps = map[string]bool{
	"activityWindow": false, "createdAt": true, "createdTime": true, "endTime": true, "endedAt": true,
	"expiresAt": true, "firstSeenAt": true, "lastGeneratedAt": true, "lastModifiedAt": true,
	"lastSeenAt": true, "launchedAt": true, "modifiedAt": true, "scanCompletedAt": true,
	"scanEndTime": true, "scanStartTime": true, "scanStartedAt": true, "startTime": true,
	"startedAt": true, "taskCreatedAt": true, "updatedAt": true,
}

// apiShape turns an event's finding into GetFindings' shape: nested ISO 8601
// timestamps become epoch seconds.
func apiShape(raw json.RawMessage) (json.RawMessage, error) {
	var top map[string]any
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	for k, v := range top {
		top[k] = epochTimes(v)
	}
	return json.Marshal(top)
}

func epochTimes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && apiTimestamps[k] {
				if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
					x[k] = float64(t.UnixMilli()) / 1000
					continue
				}
			}
			x[k] = epochTimes(e)
		}
	case []any:
		for i, e := range x {
			x[i] = epochTimes(e)
		}
	}
	return v
}

func (s *findingStore) detectors(account, region string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []string{}
	for d := range s.scopes[account+" "+region] {
		out = append(out, d)
	}
	if ad := s.admins[account+" "+region]; ad != nil && s.scopes[account+" "+region][ad.detector] == nil {
		out = append(out, ad.detector)
	}
	sort.Strings(out)
	return out
}

// get returns the findings of ids the detector has, in the order asked;
// ok is false when the account has no such detector in the region.
func (s *findingStore) get(account, region, detector string, ids []string) (out []json.RawMessage, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.scopes[account+" "+region][detector]
	ad := s.admins[account+" "+region]
	if ad != nil && ad.detector != detector {
		ad = nil
	}
	if d == nil && ad == nil {
		return nil, false
	}
	// An administrator's detector: the account's own findings in the region
	// and its members' there.
	var seen []*detectorFindings
	if d != nil {
		seen = append(seen, d)
	}
	if ad != nil {
		accounts := []string{account}
		for m := range ad.members {
			accounts = append(accounts, m)
		}
		sort.Strings(accounts[1:])
		for _, a := range accounts {
			dets := s.scopes[a+" "+region]
			for _, n := range slices.Sorted(maps.Keys(dets)) {
				if dets[n] != d {
					seen = append(seen, dets[n])
				}
			}
		}
	}
	out = []json.RawMessage{}
	for _, id := range ids {
		for _, df := range seen {
			if f, found := df.byID[id]; found {
				out = append(out, f)
				break
			}
		}
	}
	return out, true
}

func (s *findingStore) reset() {
	s.mu.Lock()
	s.scopes, s.admins = nil, nil
	s.mu.Unlock()
}

// serveGuardDuty serves the two GuardDuty operations a responder needs
// (ListDetectors, GetFindings) from the finding store, in GuardDuty's
// restJson shape, per account (moto's, for the caller's access key) and
// region. Every other GuardDuty request is refused: moto serves none.
func (l *Layer) serveGuardDuty(w http.ResponseWriter, r *http.Request, body []byte, svc awsproxy.Service) {
	c := callerOf(svc)
	path := strings.TrimSuffix(r.URL.Path, "/")
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	op := r.Method + " " + path
	switch {
	case r.Method == http.MethodGet && path == "/detector":
		op = "ListDetectors"
	case r.Method == http.MethodPost && len(parts) == 4 && parts[0] == "detector" && parts[2] == "findings" && parts[3] == "get":
		op = "GetFindings"
	default:
		l.refuse(w, r, svc, op, ruleGuardDutyUnserved, awsproxy.Error{Status: http.StatusBadRequest, Code: "BadRequestException",
			Message: "The request is rejected: the irflow strict layer serves only ListDetectors and GetFindings of GuardDuty, and moto serves none."}, path)
		return
	}
	account, err := l.look.account(r.Context(), c)
	if err != nil {
		awsproxy.WriteError(w, r, svc, awsproxy.Error{Status: http.StatusInternalServerError, Code: "InternalServerErrorException", Message: err.Error()})
		return
	}
	if op == "ListDetectors" {
		writeJSON(w, http.StatusOK, map[string]any{"detectorIds": l.findings.detectors(account, c.Region)})
		return
	}
	var in struct {
		FindingIDs []string `json:"findingIds"`
	}
	if err := json.Unmarshal(body, &in); err != nil || len(in.FindingIDs) == 0 || len(in.FindingIDs) > 50 {
		// findingIds is required, "Array Members: Maximum number of 50
		// items" (GetFindings, Request Body).
		l.refuse(w, r, svc, op, ruleGuardDutyInput, awsproxy.Error{Status: http.StatusBadRequest, Code: "BadRequestException",
			Message: "The request is rejected because an invalid or out-of-range value is specified as an input parameter.",
			Fields:  map[string]string{"__type": "InvalidInputException"}}, parts[1])
		return
	}
	findings, ok := l.findings.get(account, c.Region, parts[1], in.FindingIDs)
	if !ok {
		// BadRequestException is the error code (what the SDK reports, and
		// what terraform-provider-aws matches with this message); GuardDuty's
		// earlier API reference names the sub-type NoSuchEntityException.
		l.refuse(w, r, svc, op, ruleGuardDutyDetector, awsproxy.Error{Status: http.StatusBadRequest, Code: "BadRequestException",
			Message: "The request is rejected because the input detectorId is not owned by the current account.",
			Fields:  map[string]string{"__type": "NoSuchEntityException"}}, parts[1])
		return
	}
	// Finding IDs the detector does not have are left out, not refused.
	writeJSON(w, http.StatusOK, map[string]any{"findings": findings})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-RequestId", awsproxy.RequestID())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
