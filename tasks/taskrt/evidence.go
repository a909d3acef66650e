package taskrt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/irflow/irflow/tasks/contract"
)

// S3PutAPI is the part of S3 the evidence writer uses.
type S3PutAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// S3PresignAPI presigns uploads for commands that run on the instance, so
// the instance role needs no write access to the evidence bucket.
type S3PresignAPI interface {
	PresignPutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

var keyPart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// EvidenceWriter stores evidence under cases/<caseId>/<folder>/<name> with
// its SHA-256 sent as the object checksum, so S3 refuses a corrupted upload.
// The bucket's default Object Lock retention protects every version.
type EvidenceWriter struct {
	S3        S3PutAPI
	Bucket    string
	KMSKeyArn string
}

// Key returns the object key of a piece of evidence, checking each part.
func Key(caseID, folder, name string) (string, error) {
	for _, p := range []string{caseID, folder, name} {
		if !keyPart.MatchString(p) {
			return "", &contract.InvalidInputError{Field: "evidence key", Reason: fmt.Sprintf("%q is not a safe key part", p)}
		}
	}
	return fmt.Sprintf("cases/%s/%s/%s", caseID, folder, name), nil
}

// Put stores body and returns its evidence entry.
func (w *EvidenceWriter) Put(ctx context.Context, caseID, folder, name, contentType string, body []byte) (contract.Evidence, error) {
	if w == nil || w.S3 == nil || w.Bucket == "" {
		return contract.Evidence{}, &contract.PreconditionFailedError{Reason: "no evidence bucket configured (IRFLOW_EVIDENCE_BUCKET)"}
	}
	key, err := Key(caseID, folder, name)
	if err != nil {
		return contract.Evidence{}, err
	}
	sum := sha256.Sum256(body)
	in := &s3.PutObjectInput{
		Bucket:            aws.String(w.Bucket),
		Key:               aws.String(key),
		Body:              bytes.NewReader(body),
		ContentLength:     aws.Int64(int64(len(body))),
		ContentType:       aws.String(contentType),
		ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		Metadata:          map[string]string{"irflow-sha256": hex.EncodeToString(sum[:]), "irflow-case-id": caseID},
	}
	// Where the evidence comes from: with Organizations, another account
	// and region than the bucket's.
	if t, ok := TargetFrom(ctx); ok && t.Account != "" {
		in.Metadata["irflow-target-account"] = t.Account
		in.Metadata["irflow-target-region"] = t.Region
	}
	if w.KMSKeyArn != "" {
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(w.KMSKeyArn)
	}
	if _, err := w.S3.PutObject(ctx, in); err != nil {
		return contract.Evidence{}, contract.AWSError("s3:PutObject "+key, err)
	}
	return contract.Evidence{URI: fmt.Sprintf("s3://%s/%s", w.Bucket, key), SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(body))}, nil
}

// PresignPut returns a URL the instance can PUT one object to until expiry.
func PresignPut(ctx context.Context, ps S3PresignAPI, bucket, key string, expiry time.Duration) (string, error) {
	req, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		s3.WithPresignExpires(expiry))
	if err != nil {
		return "", contract.AWSError("s3:PutObject (presign) "+key, err)
	}
	return req.URL, nil
}
