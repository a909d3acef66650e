package incident

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/irflow/irflow/tasks/textmatch"
)

// StartKey is the key of the start API's envelope in an execution input.
const StartKey = "irflowStart"

// StartEnvelope is what the start API (tasks/start-api) puts around an
// input it starts: who called it, as the signed request's IAM identity
// says, when, and the MAC (KMS, the deployment's HMAC key) over
// StartMACFields. resolve-target verifies the MAC and only then takes
// Caller for the requester.
type StartEnvelope struct {
	Caller string `json:"caller"`
	At     string `json:"at"`
	KeyID  string `json:"keyId"`
	MAC    string `json:"mac"`
}

// MaxStartSkew is how far an envelope's time may be from the execution's
// start: the start API starts the execution right after signing.
const MaxStartSkew = 5 * time.Minute

var (
	// ^arn:[a-z-]+:(iam|sts)::[0-9]{12}:[A-Za-z0-9+=,.@_/-]{1,900}$
	callerRE = textmatch.AfterPrefix{Prefix: regexp.MustCompile(`^arn:[a-z-]+:(iam|sts)::[0-9]{12}:`), Rest: textmatch.NewSpan(`[A-Za-z0-9+=,.@_/-]`, 1, 900)}
	keyIDRE  = textmatch.NewSpan(`[A-Za-z0-9:/_+=,.@-]`, 1, 512)
	macRE    = textmatch.Padded{Body: textmatch.NewSpan(`[A-Za-z0-9+/]`, 4, 512)} // ^[A-Za-z0-9+/]{4,512}={0,2}$
)

// envelopeOf checks the shape of the input's irflowStart object.
func envelopeOf(m map[string]any) (*StartEnvelope, *FieldError) {
	raw, ok := m[StartKey].(map[string]any)
	if !ok {
		return nil, fieldErr(StartKey, "must be an object {caller, at, keyId, mac} (the start API writes it)")
	}
	for k := range raw {
		switch k {
		case "caller", "at", "keyId", "mac":
		default:
			return nil, fieldErr(StartKey+"."+clip(k), "is not a field of the start envelope (caller, at, keyId, mac)")
		}
	}
	var e StartEnvelope
	for _, f := range []struct {
		key string
		dst *string
		re  textmatch.Matcher
	}{{"caller", &e.Caller, callerRE}, {"keyId", &e.KeyID, keyIDRE}, {"mac", &e.MAC, macRE}} {
		s, ok := raw[f.key].(string)
		if !ok || !f.re.MatchString(s) {
			return nil, fieldErr(StartKey+"."+f.key, "is missing or malformed")
		}
		*f.dst = s
	}
	at, _ := raw["at"].(string)
	if _, err := time.Parse(time.RFC3339Nano, at); err != nil {
		return nil, fieldErr(StartKey+".at", "must be an RFC 3339 time")
	}
	e.At = at
	return &e, nil
}

// StartEnvelopeOf returns the input's start envelope (nil when there is
// none) and the digest of the rest of the input that its MAC covers.
func StartEnvelopeOf(raw []byte) (*StartEnvelope, string, error) {
	m, err := decodeObject(raw)
	if err != nil {
		return nil, "", err
	}
	if _, ok := m[StartKey]; !ok {
		return nil, "", nil
	}
	env, ferr := envelopeOf(m)
	if ferr != nil {
		return nil, "", ferr
	}
	digest, err := StartDigest(raw)
	return env, digest, err
}

// StartDigest is the hex SHA-256 of the input's canonical form without its
// envelope: the JSON object with keys sorted, no whitespace, numbers as
// written. The start API signs it before it adds the envelope;
// resolve-target recomputes it from what the execution received.
func StartDigest(raw []byte) (string, error) {
	m, err := decodeObject(raw)
	if err != nil {
		return "", err
	}
	delete(m, StartKey)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return "", fmt.Errorf("canonical input: %w", err)
	}
	sum := sha256.Sum256(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return hex.EncodeToString(sum[:]), nil
}

// StartMACFields are what the start envelope's MAC covers: the state
// machine and the execution name the start API started (so the envelope
// cannot be replayed on another execution), the caller, the time and the
// digest of the input.
func StartMACFields(stateMachineArn, executionName string, e *StartEnvelope, digest string) []string {
	return []string{stateMachineArn, executionName, e.Caller, e.At, digest}
}

func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, fieldErr("input", "is not a JSON object")
	}
	return m, nil
}
