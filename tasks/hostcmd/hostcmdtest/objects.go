package hostcmdtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/irflow/irflow/tasks/hostcmd"
)

// FakeObjects is a versioned bucket in memory with the HeadObject and
// GetObject (version, open-ended range) that hostcmd.Bind reads back with.
type FakeObjects struct {
	mu       sync.Mutex
	versions map[string][][]byte
	// Heads and Gets count the calls; GetBytes the bytes served; Ranges
	// are the GETs' "key version range".
	Heads, Gets int
	GetBytes    int64
	Ranges      []string
}

var _ hostcmd.ObjectReader = (*FakeObjects)(nil)

// Put stores a new version of key and returns its version id.
func (f *FakeObjects) Put(key string, body []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.versions == nil {
		f.versions = map[string][][]byte{}
	}
	f.versions[key] = append(f.versions[key], append([]byte(nil), body...))
	return "v" + strconv.Itoa(len(f.versions[key]))
}

// Latest is the newest version of key.
func (f *FakeObjects) Latest(key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.versions[key]
	if len(vs) == 0 {
		return nil, false
	}
	return vs[len(vs)-1], true
}

func (f *FakeObjects) version(key, id string) ([]byte, string, error) {
	vs := f.versions[key]
	if len(vs) == 0 {
		return nil, "", &s3types.NoSuchKey{Message: aws.String("The specified key does not exist.")}
	}
	if id == "" {
		return vs[len(vs)-1], "v" + strconv.Itoa(len(vs)), nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(id, "v"))
	if err != nil || n < 1 || n > len(vs) {
		return nil, "", fmt.Errorf("no version %s of %s", id, key)
	}
	return vs[n-1], id, nil
}

// HeadObject implements hostcmd.ObjectReader.
func (f *FakeObjects) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Heads++
	b, v, err := f.version(aws.ToString(in.Key), aws.ToString(in.VersionId))
	if err != nil {
		return nil, err
	}
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(int64(len(b))), VersionId: aws.String(v)}, nil
}

// GetObject implements hostcmd.ObjectReader: a version and "bytes=N-".
func (f *FakeObjects) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Gets++
	f.Ranges = append(f.Ranges, aws.ToString(in.Key)+" "+aws.ToString(in.VersionId)+" "+aws.ToString(in.Range))
	b, v, err := f.version(aws.ToString(in.Key), aws.ToString(in.VersionId))
	if err != nil {
		return nil, err
	}
	if r := aws.ToString(in.Range); r != "" {
		from, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r, "bytes="), "-"))
		if err != nil || from > len(b) {
			return nil, fmt.Errorf("range %q of %d bytes", r, len(b))
		}
		b = b[from:]
	}
	f.GetBytes += int64(len(b))
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b)), ContentLength: aws.Int64(int64(len(b))), VersionId: aws.String(v)}, nil
}
