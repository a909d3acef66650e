// Package mactest is an HMAC key in memory with KMS's GenerateMac and
// VerifyMac shape, for unit tests of code that authenticates with
// package mac. Integration tests use moto's KMS, which implements both.
package mactest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/irflow/irflow/tasks/mac"
)

// KMS holds one secret per key id and counts the calls.
type KMS struct {
	mu                  sync.Mutex
	secrets             map[string][]byte
	Generates, Verifies int
	// Err, when set, fails every call (an outage, access denied).
	Err error
}

var _ mac.API = (*KMS)(nil)

func (k *KMS) secret(id string) []byte {
	if k.secrets == nil {
		k.secrets = map[string][]byte{}
	}
	s, ok := k.secrets[id]
	if !ok {
		s = make([]byte, 32)
		_, _ = rand.Read(s)
		k.secrets[id] = s
	}
	return s
}

func (k *KMS) sum(id string, msg []byte) []byte {
	h := hmac.New(sha256.New, k.secret(id))
	h.Write(msg)
	return h.Sum(nil)
}

// GenerateMac implements mac.API.
func (k *KMS) GenerateMac(_ context.Context, in *kms.GenerateMacInput, _ ...func(*kms.Options)) (*kms.GenerateMacOutput, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.Generates++
	if k.Err != nil {
		return nil, k.Err
	}
	return &kms.GenerateMacOutput{Mac: k.sum(aws.ToString(in.KeyId), in.Message), KeyId: in.KeyId, MacAlgorithm: in.MacAlgorithm}, nil
}

// VerifyMac implements mac.API; a wrong MAC is KMSInvalidMacException, as in KMS.
func (k *KMS) VerifyMac(_ context.Context, in *kms.VerifyMacInput, _ ...func(*kms.Options)) (*kms.VerifyMacOutput, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.Verifies++
	if k.Err != nil {
		return nil, k.Err
	}
	if !hmac.Equal(k.sum(aws.ToString(in.KeyId), in.Message), in.Mac) {
		return nil, &kmstypes.KMSInvalidMacException{Message: aws.String("mac mismatch")}
	}
	return &kms.VerifyMacOutput{MacValid: true, KeyId: in.KeyId, MacAlgorithm: in.MacAlgorithm}, nil
}

// Key returns a key named id over a new in-memory KMS.
func Key(id string) (*mac.Key, *KMS) {
	k := &KMS{}
	return &mac.Key{KMS: k, ID: id}, k
}
