// Package s3fake is the evidence bucket of the handlers' unit tests: an
// s3:PutObject that keeps what was put, by key (taskrt.S3PutAPI).
package s3fake

import (
	"context"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/irflow/irflow/tasks/taskrt"
)

// Bucket keeps what was put, by key; its zero value is empty and ready.
// Err, when set, is every put's answer. Read Objects once the puts are
// done.
type Bucket struct {
	mu      sync.Mutex
	Objects map[string][]byte
	Err     error
}

var _ taskrt.S3PutAPI = (*Bucket)(nil)

// PutObject keeps the body under the key, or answers Err.
func (b *Bucket) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if b.Err != nil {
		return nil, b.Err
	}
	body, _ := io.ReadAll(in.Body)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Objects == nil {
		b.Objects = map[string][]byte{}
	}
	b.Objects[aws.ToString(in.Key)] = body
	return &s3.PutObjectOutput{}, nil
}

// Keys returns the keys put so far, sorted.
func (b *Bucket) Keys() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Sorted(maps.Keys(b.Objects))
}
