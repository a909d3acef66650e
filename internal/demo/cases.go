package demo

import (
	"context"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/irflow/irflow/generator/simulate"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/approval-api/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

// approver decides the case's gates through the real approval API handler
// (tasks/approval-api Handler.Decide, what its Function URL runs), whose
// Responder answers the simulated gate's task token in place of Step
// Functions. The case's deciders try in order until the API has answered
// the gate (a gate that needs several people takes several approvals); a
// gate nobody answers is left to time out.
func approver(cfg aws.Config, env taskrt.Env, log io.Writer, c *Case) simulate.Approver {
	api := handler.New(cfg, env)
	api.Log = taskrt.NewLogger(log)
	return simulate.CallbackApprover(func(ctx context.Context, g simulate.Gate, cb simulate.Callbacks) error {
		id, err := approval.PayloadID(g.Payload)
		if err != nil {
			return err
		}
		answered := &answerSpy{Callbacks: cb}
		h := *api
		h.Responder = answered
		for _, d := range c.Deciders {
			p, err := approval.ParsePrincipal(d.Who)
			if err != nil {
				return err
			}
			status, body := h.Decide(ctx, handler.Identity{ARN: d.Who, Account: p.Account}, id, d.Decision, d.Reason)
			c.Attempts = append(c.Attempts, Attempt{Step: g.Step, ApprovalID: id, Decider: d, Status: status, Body: body})
			// 202: the vote counts and the gate needs another person
			// (an unconfirmed requester, minApprovers); the next decider
			// goes on.
			if status != d.WantStatus && !(status == http.StatusAccepted && d.WantStatus == http.StatusOK) {
				c.problem("gate %s: %s by %s answered %d; want %d: %s", g.Step, d.Decision, d.Who, status, d.WantStatus, body)
			}
			if answered.done || status != http.StatusOK && status != http.StatusAccepted && status != http.StatusForbidden {
				return nil
			}
		}
		return nil
	})
}

// answerSpy notes that the approval API answered the gate.
type answerSpy struct {
	simulate.Callbacks
	done bool
}

func (s *answerSpy) SendTaskSuccess(ctx context.Context, token, output string) error {
	s.done = true
	return s.Callbacks.SendTaskSuccess(ctx, token, output)
}

func (s *answerSpy) SendTaskFailure(ctx context.Context, token, name, cause string) error {
	s.done = true
	return s.Callbacks.SendTaskFailure(ctx, token, name, cause)
}
