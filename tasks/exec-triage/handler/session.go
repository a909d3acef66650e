package handler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsexec"
	"github.com/irflow/irflow/tasks/ecsexec/triage"
)

// attempt is one session in one container with one shell: what ECS and the
// session said, and what arrived.
type attempt struct {
	shell     string
	nonce     string
	sessionID string
	raw       []byte
	result    ecsexec.Result
	// skip is why the container cannot be triaged at all ("" if it can).
	skip string
	// truncated says why the output was cut by irflow's own budget, and
	// cut is the session error that said so.
	truncated string
	cut       error
}

// collect runs the collector in the container, trying each shell in turn
// while the collector does not start. It returns the last attempt, the
// analysis of a started collector (report, artifacts) or why the container
// was skipped, and the named error of a session irflow cannot trust.
func (r *run) collect(ctx context.Context, container string, deadline time.Time) (*attempt, *analysis, error) {
	var notStarted []string
	for _, shell := range triage.Shells {
		a, err := r.session(ctx, container, shell, deadline)
		if err != nil || a.skip != "" {
			return a, nil, err
		}
		rep, arts, aerr := triage.Analyze(a.raw, a.nonce, r.plan.target, triage.Options{})
		var ns *triage.CollectorNotStartedError
		if errors.As(aerr, &ns) {
			if a.truncated != "" {
				return a, nil, &contract.ExecSessionError{Container: container, Kind: contract.ErrorName(a.cut),
					Err: fmt.Errorf("%s before the collector printed anything: %w", a.truncated, a.cut)}
			}
			notStarted = append(notStarted, fmt.Sprintf("%s: %s", shell, ns.Output))
			continue
		}
		return a, &analysis{report: rep, artifacts: arts, incomplete: aerr}, nil
	}
	return &attempt{skip: "no shell in the image to run the collector (" + strings.Join(notStarted, "; ") +
		"): an image without /bin/sh or /busybox/sh cannot be triaged through ECS Exec"}, nil, nil
}

// analysis is what triage.Analyze made of a started collector.
type analysis struct {
	report     triage.Report
	artifacts  []triage.Artifact
	incomplete error
}

// session opens one ECS Exec session and reads it until the agent closes
// the channel, the output limit, or the deadline.
func (r *run) session(ctx context.Context, container, shell string, deadline time.Time) (*attempt, error) {
	a := &attempt{shell: shell, nonce: triage.NewNonce()}
	cmd, err := triage.Command(shell, a.nonce, r.plan.target, r.limits.collector())
	if err != nil {
		return nil, &contract.InvalidInputError{Field: "with.limits", Reason: err.Error()}
	}
	out, err := r.h.ECS.ExecuteCommand(ctx, &ecs.ExecuteCommandInput{Cluster: aws.String(r.plan.cluster),
		Task: aws.String(r.plan.task), Container: aws.String(container), Command: aws.String(cmd), Interactive: true})
	if err != nil {
		a.skip, err = refused(err, r.plan.task)
		return a, err
	}
	if out.Session == nil || aws.ToString(out.Session.StreamUrl) == "" {
		return nil, &contract.RetryableError{Op: "ecs:ExecuteCommand " + r.plan.task, Err: errors.New("the answer holds no session")}
	}
	a.sessionID = aws.ToString(out.Session.SessionId)
	s := ecsexec.Session{StreamURL: aws.ToString(out.Session.StreamUrl), Token: aws.ToString(out.Session.TokenValue), SessionID: a.sessionID}
	lim := r.h.Session
	lim.MaxOutputBytes = r.limits.MaxOutputBytes
	sctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var buf bytes.Buffer
	a.result, err = r.h.Run(sctx, s, nil, &buf, lim)
	a.raw = buf.Bytes()
	if err == nil {
		return a, nil
	}
	return a, a.classify(ctx, container, err)
}

// refused turns an ExecuteCommand refusal into a reason to skip the
// container, or an error. ECS's InvalidParameterException about the
// execute command (not enabled, agent not running), TargetNotConnected
// (the agent cannot reach Session Manager) and AccessDenied (irflow may not
// exec into this task, or the task may not use ssmmessages) are skips.
func refused(err error, task string) (string, error) {
	var api smithy.APIError
	if errors.As(err, &api) {
		code, msg := api.ErrorCode(), api.ErrorMessage()
		switch {
		case code == "InvalidParameterException" && strings.Contains(strings.ToLower(msg), "execute command"):
			return fmt.Sprintf("ECS refused ExecuteCommand (%s): %s", code, msg), nil
		case code == "TargetNotConnectedException":
			return fmt.Sprintf("ECS refused ExecuteCommand (%s): %s: the container's SSM agent is not connected to Session Manager "+
				"(the task role needs ssmmessages:CreateControlChannel, CreateDataChannel, OpenControlChannel and "+
				"OpenDataChannel, and the task a route to ssmmessages)", code, msg), nil
		case code == "AccessDeniedException" || code == "AccessDenied":
			return fmt.Sprintf("ECS refused ExecuteCommand (%s): %s", code, msg), nil
		}
	}
	return "", contract.AWSError("ecs:ExecuteCommand "+task, err)
}

// classify decides what a session error means. Irflow's own budget (the
// output limit, the container's share of the time) cut a run it keeps;
// KMS encryption and a refused data channel are skips; a dropped
// connection is retryable; everything else is a peer irflow cannot trust.
func (a *attempt) classify(ctx context.Context, container string, err error) error {
	var (
		ol *ecsexec.OutputLimitError
		dl *ecsexec.DeadlineError
		hs *ecsexec.HandshakeError
		de *ecsexec.DialError
		cl *ecsexec.ConnectionLostError
	)
	switch {
	case errors.As(err, &ol):
		a.truncated, a.cut = fmt.Sprintf("the output limit of %d bytes was reached", ol.Limit), err
		return nil
	case errors.As(err, &dl) && ctx.Err() == nil:
		a.truncated, a.cut = "the time left in the invocation ran out", err
		return nil
	case errors.As(err, &hs) && hs.Encryption:
		a.skip = "the cluster encrypts ECS Exec sessions with a KMS key (executeCommandConfiguration.kmsKeyId), " +
			"which irflow does not support: " + hs.Reason
		return nil
	case errors.As(err, &de) && (de.Status == http.StatusForbidden || de.Status == http.StatusUnauthorized):
		a.skip = fmt.Sprintf("Session Manager (ssmmessages) refused the data channel (HTTP %d): %v", de.Status, de.Err)
		return nil
	}
	se := &contract.ExecSessionError{Container: container, Kind: contract.ErrorName(err), Err: err}
	if errors.As(err, &de) || errors.As(err, &cl) {
		return &contract.RetryableError{Op: "ECS Exec session " + a.sessionID, Err: se}
	}
	return se
}
