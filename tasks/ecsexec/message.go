package ecsexec

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// Message types, the 32-byte space-padded MessageType field of a frame
// (session-manager-plugin src/message/clientmessage.go).
const (
	TypeInput            = "input_stream_data"
	TypeOutput           = "output_stream_data"
	TypeAcknowledge      = "acknowledge"
	TypeChannelClosed    = "channel_closed"
	TypeStartPublication = "start_publication"
	TypePausePublication = "pause_publication"
)

// PayloadType says what a stream frame carries (clientmessage.go, PayloadType).
type PayloadType uint32

// Payload types the data channel uses. Output is both the command's output
// (agent to client) and keyboard input (client to agent).
const (
	PayloadOutput               PayloadType = 1
	PayloadError                PayloadType = 2
	PayloadSize                 PayloadType = 3
	PayloadParameter            PayloadType = 4
	PayloadHandshakeRequest     PayloadType = 5
	PayloadHandshakeResponse    PayloadType = 6
	PayloadHandshakeComplete    PayloadType = 7
	PayloadEncChallengeRequest  PayloadType = 8
	PayloadEncChallengeResponse PayloadType = 9
	PayloadFlag                 PayloadType = 10
	PayloadStdErr               PayloadType = 11
	PayloadExitCode             PayloadType = 12
)

// Frame layout, all integers big-endian (clientmessage.go, the
// ClientMessage_*Offset constants; the agent's AgentMessage in
// amazon-ssm-agent agent/session/contracts/agentmessage.go is the same):
//
//	HL(4) MessageType(32) SchemaVersion(4) CreatedDate(8) SequenceNumber(8)
//	Flags(8) MessageId(16) PayloadDigest(32) PayloadType(4) PayloadLength(4)
//	Payload(PayloadLength)
//
// HL counts the bytes from MessageType up to PayloadType inclusive, so the
// payload starts at HL+4 (messageparser.go: input[headerLength+4:]).
const (
	offType      = 4
	offSchema    = offType + 32
	offCreated   = offSchema + 4
	offSeq       = offCreated + 8
	offFlags     = offSeq + 8
	offID        = offFlags + 8
	offDigest    = offID + 16
	offPayType   = offDigest + 32
	offPayLength = offPayType + 4
	headerLength = offPayLength // 116, what both sides write into HL
	minFrame     = offPayLength + 4
)

// Flags of a stream frame: SYN marks the first message of a stream, FIN the
// last. The agent sets SYN on sequence number 0 (agent datachannel.go,
// SendStreamDataMessage); acknowledgements carry both (messageparser.go,
// SerializeClientMessageWithAcknowledgeContent sets Flags: 3).
const (
	FlagSYN uint64 = 1
	FlagFIN uint64 = 2
)

// UUID is a message id in canonical byte order (the order of its string form).
type UUID [16]byte

// NewUUID returns a random version 4 UUID.
func NewUUID() UUID {
	var u UUID
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// String is the hyphenated form that acknowledgements quote.
func (u UUID) String() string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Message is one data channel frame.
type Message struct {
	Type          string
	SchemaVersion uint32
	CreatedDate   uint64 // epoch milliseconds
	Sequence      int64
	Flags         uint64
	ID            UUID
	PayloadType   PayloadType
	Payload       []byte
}

// newMessage fills in the fields every frame of ours carries.
func newMessage(typ string, seq int64, flags uint64, pt PayloadType, payload []byte) Message {
	return Message{
		Type:          typ,
		SchemaVersion: 1,
		CreatedDate:   uint64(time.Now().UnixMilli()),
		Sequence:      seq,
		Flags:         flags,
		ID:            NewUUID(),
		PayloadType:   pt,
		Payload:       payload,
	}
}

// MarshalBinary encodes m with a fresh SHA-256 digest of its payload.
func (m Message) MarshalBinary() ([]byte, error) {
	if len(m.Type) == 0 || len(m.Type) > 32 {
		return nil, fmt.Errorf("message type %q does not fit 32 bytes", m.Type)
	}
	b := make([]byte, minFrame+len(m.Payload))
	binary.BigEndian.PutUint32(b, headerLength)
	// The plugin pads the type with spaces (messageparser.go, putString).
	copy(b[offType:offSchema], bytes.Repeat([]byte{' '}, 32))
	copy(b[offType:], m.Type)
	binary.BigEndian.PutUint32(b[offSchema:], m.SchemaVersion)
	binary.BigEndian.PutUint64(b[offCreated:], m.CreatedDate)
	binary.BigEndian.PutUint64(b[offSeq:], uint64(m.Sequence))
	binary.BigEndian.PutUint64(b[offFlags:], m.Flags)
	putUUID(b[offID:], m.ID)
	d := sha256.Sum256(m.Payload)
	copy(b[offDigest:], d[:])
	binary.BigEndian.PutUint32(b[offPayType:], uint32(m.PayloadType))
	binary.BigEndian.PutUint32(b[offPayLength:], uint32(len(m.Payload)))
	copy(b[minFrame:], m.Payload)
	return b, nil
}

// putUUID writes the UUID's low 8 bytes first, then its high 8 bytes: the
// plugin and the agent both swap the halves on the wire (messageparser.go,
// putUuid and getUuid).
func putUUID(b []byte, u UUID) {
	copy(b[0:8], u[8:16])
	copy(b[8:16], u[0:8])
}

func getUUID(b []byte) UUID {
	var u UUID
	copy(u[8:16], b[0:8])
	copy(u[0:8], b[8:16])
	return u
}

// ParseMessage decodes and validates one frame. Publication control frames
// are accepted without checks, as the plugin does (messageparser.go,
// Validate); every other frame must have a sane header length, a payload
// length that matches the frame, a creation date and, when it has a payload,
// a matching SHA-256 digest. Errors are *ProtocolError.
func ParseMessage(b []byte) (Message, error) {
	var m Message
	if len(b) < minFrame {
		return m, &ProtocolError{Reason: fmt.Sprintf("frame of %d bytes is shorter than a header", len(b))}
	}
	m.Type = string(bytes.TrimRight(bytes.Trim(b[offType:offSchema], "\x00"), " "))
	if m.Type == TypeStartPublication || m.Type == TypePausePublication {
		return m, nil
	}
	hl := binary.BigEndian.Uint32(b)
	if hl < headerLength || uint64(hl)+4 > uint64(len(b)) {
		return m, &ProtocolError{Reason: fmt.Sprintf("header length %d in a frame of %d bytes", hl, len(b))}
	}
	m.SchemaVersion = binary.BigEndian.Uint32(b[offSchema:])
	m.CreatedDate = binary.BigEndian.Uint64(b[offCreated:])
	m.Sequence = int64(binary.BigEndian.Uint64(b[offSeq:]))
	m.Flags = binary.BigEndian.Uint64(b[offFlags:])
	m.ID = getUUID(b[offID:])
	m.PayloadType = PayloadType(binary.BigEndian.Uint32(b[offPayType:]))
	n := binary.BigEndian.Uint32(b[offPayLength:])
	m.Payload = b[hl+4:]
	switch {
	case m.Type == "" || !printable(m.Type):
		return m, &ProtocolError{Reason: fmt.Sprintf("message type %q", m.Type)}
	case uint64(n) != uint64(len(m.Payload)):
		return m, &ProtocolError{Reason: fmt.Sprintf("payload length %d but %d bytes follow the header", n, len(m.Payload))}
	case m.CreatedDate == 0:
		return m, &ProtocolError{Reason: "frame without a creation date"}
	case m.Sequence < 0:
		return m, &ProtocolError{Reason: fmt.Sprintf("negative sequence number %d", m.Sequence)}
	}
	if n > 0 {
		if d := sha256.Sum256(m.Payload); !bytes.Equal(d[:], b[offDigest:offDigest+32]) {
			return m, &ProtocolError{Reason: fmt.Sprintf("payload digest mismatch in %s %d", m.Type, m.Sequence), Digest: true}
		}
	}
	return m, nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
