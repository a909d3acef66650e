package handler

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
)

// source is where one container's awslogs events are.
type source struct {
	Container, Group, Stream, Region string
}

// window is the time range (epoch milliseconds) and filter of the copy.
type window struct {
	Start, End int64
	Pattern    string
	MaxBytes   int64
}

// collected is what was copied for one container (outputs.containers).
type collected struct {
	Container string `json:"container"`
	LogGroup  string `json:"logGroup"`
	LogStream string `json:"logStream"`
	Events    int    `json:"events"`
	Bytes     int64  `json:"bytes"`
	Truncated bool   `json:"truncated"`
	Note      string `json:"note,omitempty"`
}

// skip names a container whose logs are not collected, and why (outputs.skipped).
type skip struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// line is one log event in the evidence file.
type line struct {
	Timestamp     int64  `json:"timestamp"`
	Time          string `json:"time"`
	IngestionTime int64  `json:"ingestionTime"`
	LogStreamName string `json:"logStreamName"`
	EventID       string `json:"eventId"`
	Message       string `json:"message"`
}

// source finds the container's awslogs stream, or says why there is none.
func (h *Handler) source(p *contract.Payload, cd ecstypes.ContainerDefinition) (source, string) {
	name := aws.ToString(cd.Name)
	lc := cd.LogConfiguration
	switch {
	case lc == nil:
		return source{}, "no log configuration: the logs stay with the container runtime on the host"
	case lc.LogDriver == ecstypes.LogDriverAwsfirelens:
		return source{}, "log driver awsfirelens (FireLens): collect from its configured destination"
	case lc.LogDriver != ecstypes.LogDriverAwslogs:
		return source{}, fmt.Sprintf("log driver %s: not CloudWatch Logs", lc.LogDriver)
	case lc.Options["awslogs-group"] == "":
		return source{}, "awslogs without awslogs-group"
	}
	src := source{Container: name, Group: lc.Options["awslogs-group"], Region: lc.Options["awslogs-region"]}
	if prefix := lc.Options["awslogs-stream-prefix"]; prefix != "" {
		src.Stream = prefix + "/" + name + "/" + taskID(p.Target.TaskArn)
		return src, ""
	}
	// Without a prefix the stream is named after the container's runtime id.
	for _, c := range p.Target.Containers {
		if c.Name == name && c.RuntimeID != "" {
			src.Stream = c.RuntimeID
			return src, ""
		}
	}
	return source{}, "awslogs without awslogs-stream-prefix and no container runtime id to name the stream"
}

// collect copies one stream's events of the window into a gzipped JSON Lines
// evidence object. A group or stream that does not exist yields no
// evidence and a note instead of an error.
func (h *Handler) collect(ctx context.Context, p *contract.Payload, src source, w window) (collected, *contract.Evidence, error) {
	c := collected{Container: src.Container, LogGroup: src.Group, LogStream: src.Stream}
	client, crossRegion := h.Logs, src.Region != "" && src.Region != h.Region && h.LogsIn != nil
	if crossRegion {
		client = h.LogsIn(src.Region)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(src.Group), LogStreamNames: []string{src.Stream},
		StartTime: aws.Int64(w.Start), EndTime: aws.Int64(w.End),
	}
	if w.Pattern != "" {
		in.FilterPattern = aws.String(w.Pattern)
	}
	op := "logs:FilterLogEvents " + src.Group + " " + src.Stream
pages:
	for {
		out, err := client.FilterLogEvents(ctx, in)
		if err != nil {
			return c, nil, h.logsError(op, w, &c, crossRegion, err)
		}
		for _, e := range out.Events {
			b, err := json.Marshal(line{Timestamp: aws.ToInt64(e.Timestamp), Time: time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC().Format(time.RFC3339Nano),
				IngestionTime: aws.ToInt64(e.IngestionTime), LogStreamName: aws.ToString(e.LogStreamName), EventID: aws.ToString(e.EventId), Message: aws.ToString(e.Message)})
			if err != nil {
				return c, nil, fmt.Errorf("encoding a log event of %s: %w", src.Container, err)
			}
			b = append(b, '\n')
			if c.Bytes+int64(len(b)) > w.MaxBytes {
				c.Truncated = true
				break pages
			}
			gz.Write(b) // a bytes.Buffer does not fail
			c.Bytes += int64(len(b))
			c.Events++
		}
		next := aws.ToString(out.NextToken)
		if next == "" || next == aws.ToString(in.NextToken) {
			break
		}
		in.NextToken = aws.String(next)
	}
	if err := gz.Close(); err != nil {
		return c, nil, fmt.Errorf("compressing the logs of %s: %w", src.Container, err)
	}
	if c.Note == "" && c.Truncated {
		c.Note = fmt.Sprintf("stopped at with.maxBytes (%d bytes of text); later events of the window are not in the object", w.MaxBytes)
	}
	ev, err := h.Evidence.Put(ctx, p.CaseID(), p.Folder(), objectName(src.Container), "application/gzip", buf.Bytes())
	if err != nil {
		return c, nil, err
	}
	return c, &ev, nil
}

// logsError turns a missing group or stream into a note and a rejected
// filter pattern into an InvalidInputError; anything else is an error. The
// role may read log groups of its own region only, so access denied in
// another region is a note too, not a failed step.
func (h *Handler) logsError(op string, w window, c *collected, crossRegion bool, err error) error {
	var api smithy.APIError
	if w.Pattern != "" && errors.As(err, &api) && api.ErrorCode() == "InvalidParameterException" && strings.Contains(strings.ToLower(api.ErrorMessage()), "pattern") {
		return &contract.InvalidInputError{Field: "with.filterPattern", Reason: api.ErrorMessage()}
	}
	named := contract.AWSError(op, err)
	var nf *contract.TargetNotFoundError
	if errors.As(named, &nf) {
		c.Note = "log group or stream not found: " + nf.Reason
		return nil
	}
	var pf *contract.PreconditionFailedError
	if crossRegion && errors.As(named, &pf) {
		c.Note = "access denied: the log group is in another region than irflow's role may read (" + pf.Reason + ")"
		return nil
	}
	return named
}

// objectName is logs-<container>.jsonl.gz, shortened with a hash when the
// container name is too long for an evidence key part.
func objectName(container string) string {
	const maxName = 128 - len("logs-") - len(".jsonl.gz")
	if len(container) > maxName {
		sum := sha256.Sum256([]byte(container))
		container = container[:maxName-9] + "-" + hex.EncodeToString(sum[:4])
	}
	return "logs-" + container + ".jsonl.gz"
}

func taskID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }
