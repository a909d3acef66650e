package ecsexec

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
)

// pluginFrame lays out a frame byte by byte from the field table in the
// plugin's src/message/clientmessage.go, independently of MarshalBinary.
func pluginFrame(typ string, seq int64, id UUID, pt uint32, payload []byte) []byte {
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.BigEndian, v) }
	w(uint32(116))
	b.WriteString(typ + string(bytes.Repeat([]byte{' '}, 32-len(typ))))
	w(uint32(1))
	w(uint64(1700000000123))
	w(seq)
	w(uint64(1))
	b.Write(id[8:16]) // least significant half first (putUuid)
	b.Write(id[0:8])
	d := sha256.Sum256(payload)
	b.Write(d[:])
	w(pt)
	w(uint32(len(payload)))
	b.Write(payload)
	return b.Bytes()
}

func TestMessageMatchesThePluginLayout(t *testing.T) {
	id := UUID{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00}
	raw := pluginFrame(TypeOutput, 5, id, 1, []byte("hello\r\n"))
	m, err := ParseMessage(raw)
	if err != nil {
		t.Fatalf("ParseMessage: %v", err)
	}
	want := Message{Type: TypeOutput, SchemaVersion: 1, CreatedDate: 1700000000123, Sequence: 5, Flags: 1,
		ID: id, PayloadType: PayloadOutput, Payload: []byte("hello\r\n")}
	if m.Type != want.Type || m.Sequence != 5 || m.ID != id || m.PayloadType != 1 || string(m.Payload) != "hello\r\n" ||
		m.CreatedDate != want.CreatedDate || m.Flags != 1 {
		t.Errorf("ParseMessage = %+v; want %+v", m, want)
	}
	if got := id.String(); got != "11223344-5566-4788-99aa-bbccddeeff00" {
		t.Errorf("UUID.String() = %s", got)
	}
	again, err := want.MarshalBinary()
	if err != nil || !bytes.Equal(again, raw) {
		t.Errorf("MarshalBinary differs from the plugin layout:\n got %x\nwant %x", again, raw)
	}
}

func TestParseMessageRejects(t *testing.T) {
	good := pluginFrame(TypeOutput, 0, NewUUID(), 1, []byte("abc"))
	tests := []struct {
		name   string
		frame  func() []byte
		digest bool
	}{
		{"short", func() []byte { return good[:50] }, false},
		{"header length too small", func() []byte { b := clone(good); b[3] = 10; return b }, false},
		{"header length past the end", func() []byte { b := clone(good); b[2] = 0xff; return b }, false},
		{"payload length mismatch", func() []byte { b := clone(good); b[offPayLength+3] = 9; return b }, false},
		{"no creation date", func() []byte { b := clone(good); copy(b[offCreated:], make([]byte, 8)); return b }, false},
		{"binary type", func() []byte { b := clone(good); b[offType] = 0x01; return b }, false},
		{"negative sequence", func() []byte { b := clone(good); b[offSeq] = 0x80; return b }, false},
		{"digest", func() []byte { b := clone(good); b[offDigest] ^= 1; return b }, true},
		{"payload tampered", func() []byte { b := clone(good); b[len(b)-1] ^= 1; return b }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMessage(tt.frame())
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Digest != tt.digest {
				t.Errorf("ParseMessage error %v; want a ProtocolError with Digest=%v", err, tt.digest)
			}
		})
	}
	// Publication control frames are taken as they come, like the plugin does.
	ctl := pluginFrame(TypePausePublication, 0, NewUUID(), 0, nil)
	copy(ctl[offCreated:], make([]byte, 8))
	if m, err := ParseMessage(ctl); err != nil || m.Type != TypePausePublication {
		t.Errorf("pause_publication: %v, %+v", err, m)
	}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func FuzzParseMessage(f *testing.F) {
	f.Add(pluginFrame(TypeOutput, 3, NewUUID(), 1, []byte("seed")))
	f.Add(pluginFrame(TypeAcknowledge, 0, NewUUID(), 0, []byte(`{"AcknowledgedMessageSequenceNumber":1}`)))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err != nil || m.Type == TypeStartPublication || m.Type == TypePausePublication {
			return
		}
		raw, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("valid frame does not marshal: %v", err)
		}
		m2, err := ParseMessage(raw)
		if err != nil || m2.Sequence != m.Sequence || !bytes.Equal(m2.Payload, m.Payload) || m2.ID != m.ID {
			t.Fatalf("round trip changed the frame: %v", err)
		}
	})
}
