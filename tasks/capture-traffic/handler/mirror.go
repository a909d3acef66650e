package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
)

// mirrorAPI is the part of EC2 that mode mirror calls.
type mirrorAPI interface {
	CreateTrafficMirrorSession(ctx context.Context, in *ec2.CreateTrafficMirrorSessionInput, opts ...func(*ec2.Options)) (*ec2.CreateTrafficMirrorSessionOutput, error)
	DescribeTrafficMirrorSessions(ctx context.Context, in *ec2.DescribeTrafficMirrorSessionsInput, opts ...func(*ec2.Options)) (*ec2.DescribeTrafficMirrorSessionsOutput, error)
}

// Tags that mark irflow's sessions (the same keys the other actions use).
const (
	tagCase = "irflow:case-id"
	tagStep = "irflow:step"
)

// maxSessionNumber is the highest session number EC2 accepts. A packet is
// mirrored by the lowest-numbered session whose filter accepts it, so the
// action takes the lowest free number to get every packet its filter wants.
const maxSessionNumber = 32766

var eniID = regexp.MustCompile(`^eni-[0-9a-f]{8,17}$`)

// session is one mirror session of the result.
type session struct {
	SessionID          string `json:"sessionId,omitempty"`
	NetworkInterfaceID string `json:"networkInterfaceId"`
	SessionNumber      int32  `json:"sessionNumber"`
	Existing           bool   `json:"existing"`
}

// mirror starts (or finds) a session on each of the target's ENIs. It is
// the whole action in this mode: done at once, in start and check alike.
func (h *Handler) mirror(ctx context.Context, p *contract.Payload, params Params) (*contract.Result, error) {
	if p.Target == nil || len(p.Target.ENIs) == 0 {
		return nil, &contract.PreconditionFailedError{Reason: "the target has no network interface to mirror"}
	}
	var enis []string
	seen := map[string]bool{}
	for i, e := range p.Target.ENIs {
		if !eniID.MatchString(e.ID) {
			return nil, &contract.InvalidInputError{Field: fmt.Sprintf("target.enis.%d.id", i), Reason: "not an ENI id"}
		}
		if !seen[e.ID] {
			seen[e.ID] = true
			enis = append(enis, e.ID)
		}
	}
	var out []session
	created := 0
	for _, eni := range enis {
		mine, used, err := h.sessionsOn(ctx, eni, p.CaseID(), p.Folder())
		if err != nil {
			return nil, err
		}
		if mine != nil {
			out = append(out, *mine)
			continue
		}
		num := lowestFree(used)
		if num == 0 {
			return nil, &contract.PreconditionFailedError{Reason: fmt.Sprintf("%s has no free traffic-mirror session number", eni)}
		}
		s := session{NetworkInterfaceID: eni, SessionNumber: num}
		if !p.DryRun() {
			if s.SessionID, err = h.createSession(ctx, p, params, eni, num); err != nil {
				return nil, err
			}
			created++
		}
		out = append(out, s)
	}
	res := contract.OK(fmt.Sprintf("traffic mirroring of %s to %s: %d session(s) started, %d already running",
		strings.Join(enis, ", "), params.MirrorTargetID, created, len(out)-created))
	if p.DryRun() {
		res = contract.DryRun(fmt.Sprintf("would mirror %s to %s through %s", strings.Join(enis, ", "), params.MirrorTargetID, params.MirrorFilterID))
	}
	res.With("done", true).With("mode", ModeMirror).With("sessions", out).
		With("mirrorTargetId", params.MirrorTargetID).With("mirrorFilterId", params.MirrorFilterID)
	if p.Target.NetworkMode != "awsvpc" {
		res.With("scope", "instance: in "+p.Target.NetworkMode+" mode the ENI is the instance's, so every task on it is mirrored")
	} else {
		res.With("scope", "task: the task's own ENI")
	}
	return res.With("stop", "the sessions mirror until deleted: aws ec2 delete-traffic-mirror-session --traffic-mirror-session-id <id>"), nil
}

// sessionsOn returns this case step's session on the ENI, if any, and the
// session numbers taken there.
func (h *Handler) sessionsOn(ctx context.Context, eni, caseID, step string) (*session, map[int32]bool, error) {
	used := map[int32]bool{}
	var mine *session
	in := &ec2.DescribeTrafficMirrorSessionsInput{Filters: []ec2types.Filter{{Name: aws.String("network-interface-id"), Values: []string{eni}}}}
	for {
		out, err := h.EC2.DescribeTrafficMirrorSessions(ctx, in)
		if err != nil {
			return nil, nil, contract.AWSError("ec2:DescribeTrafficMirrorSessions "+eni, err)
		}
		for _, s := range out.TrafficMirrorSessions {
			n := aws.ToInt32(s.SessionNumber)
			used[n] = true
			if tag(s.Tags, tagCase) == caseID && tag(s.Tags, tagStep) == step {
				mine = &session{SessionID: aws.ToString(s.TrafficMirrorSessionId), NetworkInterfaceID: eni, SessionNumber: n, Existing: true}
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return mine, used, nil
		}
		in.NextToken = out.NextToken
	}
}

func (h *Handler) createSession(ctx context.Context, p *contract.Payload, params Params, eni string, num int32) (string, error) {
	name := "irflow-" + p.CaseID() + "-" + p.Folder()
	out, err := h.EC2.CreateTrafficMirrorSession(ctx, &ec2.CreateTrafficMirrorSessionInput{
		NetworkInterfaceId:    aws.String(eni),
		TrafficMirrorTargetId: aws.String(params.MirrorTargetID),
		TrafficMirrorFilterId: aws.String(params.MirrorFilterID),
		SessionNumber:         aws.Int32(num),
		Description:           aws.String(fmt.Sprintf("irflow case %s step %s", p.CaseID(), p.Folder())),
		ClientToken:           aws.String(clientToken(p.CaseID(), p.Folder(), eni)),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeTrafficMirrorSession, Tags: []ec2types.Tag{
			{Key: aws.String(tagCase), Value: aws.String(p.CaseID())},
			{Key: aws.String(tagStep), Value: aws.String(p.Folder())},
			{Key: aws.String("Name"), Value: aws.String(name)},
		}}},
	})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "UnsupportedOperation" {
			return "", &contract.PreconditionFailedError{Reason: fmt.Sprintf("%s cannot be mirrored (instance type without traffic mirroring?): %s", eni, api.ErrorMessage())}
		}
		return "", contract.AWSError("ec2:CreateTrafficMirrorSession "+eni, err)
	}
	if out.TrafficMirrorSession == nil {
		return "", &contract.RetryableError{Op: "ec2:CreateTrafficMirrorSession " + eni, Err: errors.New("no session in the response")}
	}
	return aws.ToString(out.TrafficMirrorSession.TrafficMirrorSessionId), nil
}

// clientToken makes a retried create return the first session instead of a
// second one (EC2 keeps idempotency tokens for a while; the tags cover later).
func clientToken(caseID, step, eni string) string {
	sum := sha256.Sum256([]byte(caseID + "/" + step + "/" + eni))
	return "irflow-" + hex.EncodeToString(sum[:])[:48]
}

func lowestFree(used map[int32]bool) int32 {
	for n := int32(1); n <= maxSessionNumber; n++ {
		if !used[n] {
			return n
		}
	}
	return 0
}

func tag(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}
