package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/finalize-case/report"
)

// s3API is the part of S3 that reads a case's manifest.
type s3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, opts ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
}

// ManifestKey is where finalize-case writes a case's manifest.
func ManifestKey(caseID string) string { return "cases/" + caseID + "/finalize-case/manifest.json" }

// ReleaseManifestKey is where the release state machine's finalize-case
// (step finalize-release: generator.ReleaseStepFinalize) writes the
// manifest of a release of the case. Each release writes a new version of
// it (the bucket is versioned, every version locked); the current one
// anchors the most records.
func ReleaseManifestKey(caseID string) string {
	return "cases/" + caseID + "/finalize-release/manifest.json"
}

// ManifestHiddenError says the manifest's key exists only behind a delete
// marker: someone deleted it without a version id. Object Lock keeps the
// versions; the deletion itself is tampering with the case's record.
type ManifestHiddenError struct{ Key string }

func (e *ManifestHiddenError) Error() string {
	return fmt.Sprintf("the manifest %s was deleted: a delete marker hides its locked versions", e.Key)
}

// ReadManifest reads the current version of a manifest (ManifestKey,
// ReleaseManifestKey) from the evidence bucket. It returns nil, nil when
// there is none (the case not finalized yet, never released), and a
// *ManifestHiddenError when a delete marker hides it.
func ReadManifest(ctx context.Context, c s3API, bucket, key string) (*report.Manifest, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if !missing(err) {
			return nil, fmt.Errorf("reading s3://%s/%s: %w", bucket, key, err)
		}
		vs, lerr := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
		if lerr != nil {
			return nil, fmt.Errorf("s3://%s/%s is missing and its versions cannot be listed: %w", bucket, key, lerr)
		}
		for _, v := range vs.Versions {
			if aws.ToString(v.Key) == key {
				return nil, &ManifestHiddenError{Key: "s3://" + bucket + "/" + key}
			}
		}
		for _, d := range vs.DeleteMarkers {
			if aws.ToString(d.Key) == key {
				return nil, &ManifestHiddenError{Key: "s3://" + bucket + "/" + key}
			}
		}
		return nil, nil
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("reading s3://%s/%s: %w", bucket, key, err)
	}
	var m report.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("s3://%s/%s is not a manifest: %w", bucket, key, err)
	}
	return &m, nil
}

func missing(err error) bool {
	var nsk *s3types.NoSuchKey
	var api smithy.APIError
	return errors.As(err, &nsk) || errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound")
}
