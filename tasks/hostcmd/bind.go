package hostcmd

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/irflow/irflow/tasks/contract"
)

// ObjectReader is the part of S3 that reads back what a host uploaded.
type ObjectReader interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Binding is the server-side check of one uploaded object: the version
// read back (so a later PUT to the same key cannot change what is
// checked), how far its bytes have been hashed, and the SHA-256 state so
// far, carried from one check call to the next in the result's outputs.
type Binding struct {
	Name      string `json:"name"`
	Key       string `json:"key"`
	VersionID string `json:"versionId"`
	Bytes     int64  `json:"bytes"`
	Hashed    int64  `json:"hashed"`
	// State is the marshaled SHA-256 state after Hashed bytes (base64).
	State  string `json:"state,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// Done reports whether every byte was hashed.
func (b Binding) Done() bool { return b.SHA256 != "" }

// MismatchError says what S3 holds is not what the host reported: another
// size or other bytes. A compromised host (or a broken upload) is the
// likeliest cause; the step fails rather than record the host's word.
type MismatchError struct {
	Key, What string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("evidence %s in S3 is not what the host reported: %s", e.Key, e.What)
}

// hashMargin is kept back from the invocation's deadline when hashing, for
// the rest of the check and its audit record.
const hashMargin = 8 * time.Second

// chunk is what one read hashes at a time.
const chunk = 8 << 20

// Bind checks the objects of a finished command against its manifest,
// server-side: each object is read back (HeadObject) for its version id
// and size, then streamed through SHA-256 in this function, its version
// pinned, until its digest can be compared with the one the host
// reported. The host's own hash is never taken on trust: a host that
// uploads other bytes than it reports, or uploads again, is caught.
// Hashing spreads over check calls when the objects are large (a memory
// image's parts are up to 4 GiB): each call hashes until hashMargin before
// its deadline and carries the SHA-256 state forward (prior, from the
// previous result); the step's timeout bounds the whole. It returns the
// evidence when every object is bound, or the bindings so far.
func (r *Runner) Bind(ctx context.Context, bucket string, m *Manifest, keys []string, prior []Binding) ([]contract.Evidence, []Binding, error) {
	if r.Objects == nil {
		return nil, nil, &contract.PreconditionFailedError{Reason: "no S3 client to read the host's uploads back"}
	}
	byName := map[string]string{}
	for _, k := range keys {
		byName[path.Base(k)] = k
	}
	was := map[string]Binding{}
	for _, b := range prior {
		was[b.Name] = b
	}
	binds := make([]Binding, 0, len(m.Files))
	for _, f := range m.Files {
		b, ok := was[f.Name]
		if !ok {
			var err error
			if b, err = r.head(ctx, bucket, byName[f.Name], f); err != nil {
				return nil, nil, err
			}
		}
		binds = append(binds, b)
	}
	budget := &hashBudget{bytes: r.MaxHashBytes}
	budget.deadline, budget.timed = ctx.Deadline()
	for i := range binds {
		if binds[i].Done() {
			continue
		}
		if budget.spent() {
			return nil, binds, nil
		}
		if err := r.hash(ctx, bucket, &binds[i], budget); err != nil {
			return nil, nil, err
		}
		if !binds[i].Done() {
			return nil, binds, nil
		}
	}
	out := make([]contract.Evidence, 0, len(binds))
	for i, b := range binds {
		if f := m.Files[i]; b.SHA256 != f.SHA256 {
			return nil, nil, &MismatchError{Key: b.Key, What: fmt.Sprintf("its SHA-256 (version %s) is %s, the host reported %s", b.VersionID, b.SHA256, f.SHA256)}
		}
		out = append(out, contract.Evidence{URI: "s3://" + bucket + "/" + b.Key, SHA256: b.SHA256, Bytes: b.Bytes, VersionID: b.VersionID})
	}
	return out, binds, nil
}

// head reads the object's version and size back.
func (r *Runner) head(ctx context.Context, bucket, key string, f File) (Binding, error) {
	if key == "" {
		return Binding{}, &ManifestError{Reason: fmt.Sprintf("%s was not presigned by this step", f.Name)}
	}
	out, err := r.Objects.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return Binding{}, contract.AWSError("s3:HeadObject "+key, err)
	}
	b := Binding{Name: f.Name, Key: key, VersionID: aws.ToString(out.VersionId), Bytes: aws.ToInt64(out.ContentLength)}
	if b.Bytes != f.Bytes {
		return Binding{}, &MismatchError{Key: key, What: fmt.Sprintf("it has %d bytes, the host reported %d", b.Bytes, f.Bytes)}
	}
	return b, nil
}

// hashBudget is what one check call may still hash: bytes (0: no limit)
// and time (until hashMargin before the deadline).
type hashBudget struct {
	bytes, used int64
	deadline    time.Time
	timed       bool
}

func (hb *hashBudget) spent() bool {
	return hb.timed && time.Until(hb.deadline) < hashMargin || hb.bytes > 0 && hb.used >= hb.bytes
}

// next is how much the next read may hash.
func (hb *hashBudget) next(left int64) int64 {
	n := min(int64(chunk), left)
	if hb.bytes > 0 {
		n = min(n, hb.bytes-hb.used)
	}
	return n
}

// hash continues b's digest from b.Hashed, reading the pinned version.
func (r *Runner) hash(ctx context.Context, bucket string, b *Binding, budget *hashBudget) error {
	h, err := resume(b)
	if err != nil {
		return err
	}
	if b.Hashed < b.Bytes {
		in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(b.Key), Range: aws.String(fmt.Sprintf("bytes=%d-", b.Hashed))}
		if b.VersionID != "" {
			in.VersionId = aws.String(b.VersionID)
		}
		out, err := r.Objects.GetObject(ctx, in)
		if err != nil {
			return contract.AWSError("s3:GetObject "+b.Key, err)
		}
		defer out.Body.Close()
		buf := make([]byte, chunk)
		for b.Hashed < b.Bytes && !budget.spent() {
			n, rerr := io.ReadFull(out.Body, buf[:budget.next(b.Bytes-b.Hashed)])
			h.Write(buf[:n])
			b.Hashed += int64(n)
			budget.used += int64(n)
			if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
				if b.Hashed < b.Bytes {
					return &MismatchError{Key: b.Key, What: fmt.Sprintf("its body ended after %d of %d bytes", b.Hashed, b.Bytes)}
				}
				break
			}
			if rerr != nil {
				return contract.AWSError("s3:GetObject "+b.Key, rerr)
			}
		}
	}
	if b.Hashed == b.Bytes {
		b.SHA256, b.State = hex.EncodeToString(h.Sum(nil)), ""
		return nil
	}
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return err
	}
	b.State = base64.StdEncoding.EncodeToString(state)
	return nil
}

// resume rebuilds the SHA-256 state a previous call carried.
func resume(b *Binding) (hash.Hash, error) {
	h := sha256.New()
	if b.Hashed == 0 {
		return h, nil
	}
	state, err := base64.StdEncoding.DecodeString(b.State)
	if err == nil {
		err = h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state)
	}
	if err != nil {
		return nil, &contract.InvalidInputError{Field: "previous.outputs.verify", Reason: "the hashing state of " + b.Key + " is unreadable"}
	}
	return h, nil
}

// BindingsFrom reads the bindings a previous check result carried
// (outputs.verify).
func BindingsFrom(prev *contract.Result) []Binding {
	if prev == nil {
		return nil
	}
	raw, err := json.Marshal(prev.Outputs["verify"])
	if err != nil {
		return nil
	}
	var out []Binding
	_ = json.Unmarshal(raw, &out)
	return out
}

// Verifying is a check's result while the uploads are being hashed: the
// command's state, done false, and the bindings so far.
func (pr *Progress) Verifying(what string, binds []Binding) *contract.Result {
	var hashed, total int64
	for _, b := range binds {
		hashed, total = hashed+b.Hashed, total+b.Bytes
	}
	res := contract.OK(fmt.Sprintf("%s: SSM command %s finished; hashing its uploads in S3 (%d of %d bytes)", what, pr.CommandID, hashed, total))
	res.Outputs = pr.Outputs(false)
	return res.With("ssmStatus", pr.Status).With("verify", binds)
}
