package mac_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/mac"
	"github.com/irflow/irflow/tasks/mac/mactest"
)

func TestSignVerify(t *testing.T) {
	ctx := context.Background()
	k, _ := mactest.Key("arn:aws:kms:us-east-1:123456789012:key/hmac")
	m, err := k.Sign(ctx, mac.PurposeAuditRecord, "case-1", "7", "abc")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		mac     string
		purpose string
		fields  []string
		ok      bool
	}{
		{"same message", m, mac.PurposeAuditRecord, []string{"case-1", "7", "abc"}, true},
		{"other field", m, mac.PurposeAuditRecord, []string{"case-1", "8", "abc"}, false},
		{"fields joined otherwise", m, mac.PurposeAuditRecord, []string{"case-1", "7abc"}, false},
		{"other purpose", m, mac.PurposeAuditAnchor, []string{"case-1", "7", "abc"}, false},
		{"not base64", "%%%", mac.PurposeAuditRecord, []string{"case-1", "7", "abc"}, false},
		{"empty", "", mac.PurposeAuditRecord, []string{"case-1", "7", "abc"}, false},
		{"line break smuggled", m, mac.PurposeAuditRecord, []string{"case-1\n7", "abc"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := k.Verify(ctx, tt.mac, tt.purpose, tt.fields...)
			if err != nil || ok != tt.ok {
				t.Errorf("Verify = %v, %v; want %v", ok, err, tt.ok)
			}
		})
	}
	other, _ := mactest.Key("arn:aws:kms:us-east-1:123456789012:key/other")
	if ok, _ := other.Verify(ctx, m, mac.PurposeAuditRecord, "case-1", "7", "abc"); ok {
		t.Error("another key verified the MAC")
	}
}

func TestUnusableKey(t *testing.T) {
	ctx := context.Background()
	var none *mac.Key
	if _, err := none.Sign(ctx, mac.PurposeStart, "x"); contract.ErrorName(err) != contract.ErrPreconditionFailed {
		t.Errorf("Sign without a key: %v", err)
	}
	k, fake := mactest.Key("k")
	fake.Err = errors.New("boom")
	if _, err := k.Verify(ctx, "AAAA", mac.PurposeStart, "x"); err == nil {
		t.Error("an outage verified nothing and said nothing")
	}
	if _, err := mac.Message(mac.PurposeStart, strings.Repeat("x", mac.MaxMessage)); err == nil {
		t.Error("a message over KMS's limit was accepted")
	}
}
