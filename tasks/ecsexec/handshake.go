package ecsexec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ClientVersion is what irflow reports in the handshake response. The agent
// only compares it for the NonInteractiveCommands stdout/stderr separation
// notice and for port forwarding (agent datachannel.go,
// buildHandshakeCompletePayload; plugins/port/port.go), neither of which an
// ECS Exec session uses.
const ClientVersion = "1.0.0.0"

// Handshake action types and statuses (plugin src/message/handshakemessage.go).
const (
	actionKMSEncryption = "KMSEncryption"
	actionSessionType   = "SessionType"

	statusSuccess     = 1
	statusFailed      = 2
	statusUnsupported = 3
)

// openDataChannel is the first, text, websocket message: it presents the
// session token (plugin streaming.go, FinalizeDataChannelHandshake;
// src/service/service.go, OpenDataChannelInput).
type openDataChannel struct {
	MessageSchemaVersion string `json:"MessageSchemaVersion"`
	RequestID            string `json:"RequestId"`
	TokenValue           string `json:"TokenValue"`
	ClientID             string `json:"ClientId"`
	ClientVersion        string `json:"ClientVersion"`
}

// HandshakeRequest is what the agent sends first when the session needs a
// handshake: always for NonInteractiveCommands, and for ECS Exec's
// InteractiveCommands only when the cluster configures a KMS key (agent
// plugins/sessionplugin/sessionplugin.go: RequireHandshake() ||
// encryptionEnabled; singlecommand.go: RequireHandshake is false).
type HandshakeRequest struct {
	AgentVersion           string            `json:"AgentVersion"`
	RequestedClientActions []RequestedAction `json:"RequestedClientActions"`
}

// RequestedAction is one action of a HandshakeRequest.
type RequestedAction struct {
	ActionType       string          `json:"ActionType"`
	ActionParameters json.RawMessage `json:"ActionParameters"`
}

// SessionTypeRequest is the parameter of a SessionType action.
type SessionTypeRequest struct {
	SessionType string `json:"SessionType"`
	Properties  any    `json:"Properties"`
}

// HandshakeResponse answers a HandshakeRequest.
type HandshakeResponse struct {
	ClientVersion          string            `json:"ClientVersion"`
	ProcessedClientActions []ProcessedAction `json:"ProcessedClientActions"`
	Errors                 []string          `json:"Errors"`
}

// ProcessedAction is the outcome of one requested action.
type ProcessedAction struct {
	ActionType   string `json:"ActionType"`
	ActionStatus int    `json:"ActionStatus"`
	ActionResult any    `json:"ActionResult"`
	Error        string `json:"Error"`
}

// HandshakeComplete ends the handshake.
type HandshakeComplete struct {
	HandshakeTimeToComplete int64  `json:"HandshakeTimeToComplete"`
	CustomerMessage         string `json:"CustomerMessage"`
}

// sessionTypes are the shell-like session types a client of ours can run
// (plugin streaming.go, ProcessSessionTypeHandshakeAction accepts the same
// three and the port plugin, which irflow has no use for).
var sessionTypes = map[string]bool{
	"Standard_Stream": true, "InteractiveCommands": true, "NonInteractiveCommands": true,
}

// answerHandshake builds the response to req. fatal is non-nil when the
// agent asked for something irflow does not do; the response still reports
// it, so the agent ends the session instead of waiting for its timeout.
func answerHandshake(req HandshakeRequest) (resp HandshakeResponse, sessionType string, fatal error) {
	resp = HandshakeResponse{ClientVersion: ClientVersion, ProcessedClientActions: []ProcessedAction{}, Errors: []string{}}
	for _, a := range req.RequestedClientActions {
		p := ProcessedAction{ActionType: a.ActionType, ActionStatus: statusSuccess}
		switch a.ActionType {
		case actionSessionType:
			var st SessionTypeRequest
			if err := json.Unmarshal(a.ActionParameters, &st); err != nil || !sessionTypes[st.SessionType] {
				p.ActionStatus = statusFailed
				p.Error = fmt.Sprintf("unsupported session type %q", st.SessionType)
				fatal = &HandshakeError{Reason: p.Error}
			}
			sessionType = st.SessionType
		case actionKMSEncryption:
			// Encryption needs kms:GenerateDataKey with the session's
			// encryption context and AES-GCM on every frame (plugin
			// src/encryption/encrypter.go); irflow does not do it yet.
			p.ActionStatus = statusFailed
			p.Error = "irflow does not support KMS-encrypted ECS Exec sessions"
			fatal = &HandshakeError{Reason: "the agent requires KMS encryption (the cluster's executeCommandConfiguration has a kmsKeyId)", Encryption: true}
		default:
			p.ActionStatus = statusUnsupported
			p.Error = fmt.Sprintf("unsupported action %s", a.ActionType)
			fatal = &HandshakeError{Reason: p.Error}
		}
		if p.Error != "" {
			resp.Errors = append(resp.Errors, p.Error)
		}
		resp.ProcessedClientActions = append(resp.ProcessedClientActions, p)
	}
	return resp, sessionType, fatal
}

// channelClosed is the payload of a channel_closed frame (plugin
// clientmessage.go, ChannelClosed).
type channelClosed struct {
	Output string `json:"Output"`
}

// acknowledgeContent is the payload of an acknowledge frame (plugin
// clientmessage.go, AcknowledgeContent).
type acknowledgeContent struct {
	MessageType         string `json:"AcknowledgedMessageType"`
	MessageID           string `json:"AcknowledgedMessageId"`
	SequenceNumber      int64  `json:"AcknowledgedMessageSequenceNumber"`
	IsSequentialMessage bool   `json:"IsSequentialMessage"`
}

// ackFor returns the acknowledge frame for m (plugin messageparser.go,
// SerializeClientMessageWithAcknowledgeContent: sequence 0, flags SYN|FIN).
func ackFor(m Message) []byte {
	body, _ := json.Marshal(acknowledgeContent{
		MessageType: m.Type, MessageID: m.ID.String(), SequenceNumber: m.Sequence, IsSequentialMessage: true,
	})
	raw, _ := newMessage(TypeAcknowledge, 0, FlagSYN|FlagFIN, 0, body).MarshalBinary()
	return raw
}

// parseExitCode reads an ExitCode payload, "EXIT_CODE: <n>" (agent
// shell/shell.go, sendExitCode). Only NonInteractiveCommands sessions with
// separate output streams send one; an ECS Exec session never does.
func parseExitCode(p []byte) (int, bool) {
	s, ok := strings.CutPrefix(strings.TrimSpace(string(p)), "EXIT_CODE:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil
}
