package mac

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/irflow/irflow/tasks/contract"
)

// Purposes of the MACs irflow makes. A MAC of one purpose never verifies
// as another.
const (
	PurposeAuditRecord = "audit-record/v1"
	PurposeAuditAnchor = "audit-anchor/v1"
	PurposeStart       = "start/v1"
)

// Algorithm is the MAC algorithm of irflow's HMAC_256 key.
const Algorithm = kmstypes.MacAlgorithmSpecHmacSha256

// MaxMessage is KMS's limit on the message of GenerateMac and VerifyMac
// (https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html).
const MaxMessage = 4096

// API is the part of KMS that makes and checks MACs.
type API interface {
	GenerateMac(ctx context.Context, in *kms.GenerateMacInput, opts ...func(*kms.Options)) (*kms.GenerateMacOutput, error)
	VerifyMac(ctx context.Context, in *kms.VerifyMacInput, opts ...func(*kms.Options)) (*kms.VerifyMacOutput, error)
}

// Key is irflow's HMAC key in KMS (IRFLOW_MAC_KEY_ARN).
type Key struct {
	KMS API
	// ID is the key's ARN (or id or alias).
	ID string
}

// Message joins a purpose and its fields into the bytes a MAC covers:
// "irflow/<purpose>" and each field on its own line. Fields must not hold
// a newline, so no two field lists give the same message.
func Message(purpose string, fields ...string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("irflow/" + purpose)
	for _, f := range fields {
		if strings.ContainsAny(f, "\n\r") {
			return nil, fmt.Errorf("mac: a field of %s holds a line break", purpose)
		}
		b.WriteString("\n" + f)
	}
	if b.Len() > MaxMessage {
		return nil, fmt.Errorf("mac: a %s message of %d bytes exceeds KMS's %d", purpose, b.Len(), MaxMessage)
	}
	return b.Bytes(), nil
}

// Configured reports whether the key can be used.
func (k *Key) Configured() bool { return k != nil && k.KMS != nil && k.ID != "" }

// Sign returns the base64 HMAC of purpose and fields.
func (k *Key) Sign(ctx context.Context, purpose string, fields ...string) (string, error) {
	if !k.Configured() {
		return "", &contract.PreconditionFailedError{Reason: "no MAC key configured (IRFLOW_MAC_KEY_ARN)"}
	}
	msg, err := Message(purpose, fields...)
	if err != nil {
		return "", err
	}
	out, err := k.KMS.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: aws.String(k.ID), MacAlgorithm: Algorithm, Message: msg})
	if err != nil {
		return "", contract.AWSError("kms:GenerateMac", err)
	}
	return base64.StdEncoding.EncodeToString(out.Mac), nil
}

// Verify reports whether mac (base64) is the key's HMAC of purpose and
// fields. A MAC that does not match is (false, nil); an error means the
// check could not be made (access denied, throttling, a bad key).
func (k *Key) Verify(ctx context.Context, mac, purpose string, fields ...string) (bool, error) {
	if !k.Configured() {
		return false, &contract.PreconditionFailedError{Reason: "no MAC key configured (IRFLOW_MAC_KEY_ARN)"}
	}
	raw, err := base64.StdEncoding.DecodeString(mac)
	if err != nil || len(raw) == 0 {
		return false, nil
	}
	msg, err := Message(purpose, fields...)
	if err != nil {
		return false, nil
	}
	out, err := k.KMS.VerifyMac(ctx, &kms.VerifyMacInput{KeyId: aws.String(k.ID), MacAlgorithm: Algorithm, Message: msg, Mac: raw})
	var invalid *kmstypes.KMSInvalidMacException
	switch {
	case errors.As(err, &invalid):
		return false, nil
	case err != nil:
		return false, contract.AWSError("kms:VerifyMac", err)
	}
	return out.MacValid, nil
}
