package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/funcurl"
)

// maxBody bounds a request body; a decision is a few hundred bytes.
const maxBody = 16 * 1024

// HandleURL serves the Function URL:
//
//	POST /approvals/{id}          {"decision": "approve"|"reject", "reason": "..."}
//	GET  /approvals[?status=S]    approvals with status S (default PENDING; "all"), no tokens
//	GET  /approvals/{id}          one approval, no token
//
// The caller is the IAM identity of the signed request. It never returns
// an error: every failure is an HTTP answer with a JSON body.
func (h *Handler) HandleURL(ctx context.Context, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	return funcurl.Response(h.route(ctx, req)), nil
}

func (h *Handler) route(ctx context.Context, req events.LambdaFunctionURLRequest) (int, []byte) {
	method, path := funcurl.Route(req)
	id, isOne := strings.CutPrefix(path, "/approvals/")
	switch {
	case isOne && !strings.Contains(id, "/") && method == http.MethodPost:
		// Strictly: a typo ("decison") is not taken for a missing decision.
		var dr approval.DecisionRequest
		if msg := funcurl.Decode(req, maxBody, &dr, func(err error) string {
			return fmt.Sprintf(`the body must be {"decision": "approve" or "reject", "reason": "..."}: %v`, err)
		}); msg != "" {
			ref := refuse(http.StatusBadRequest, approval.CodeBadRequest, "%s", msg)
			return ref.status, ref.body()
		}
		return h.Decide(ctx, callerOf(req), id, dr.Decision, dr.Reason)
	case isOne && !strings.Contains(id, "/") && method == http.MethodGet:
		return h.getOne(ctx, id)
	case path == "/approvals" && method == http.MethodGet:
		return h.list(ctx, req.QueryStringParameters["status"])
	case path == "/approvals" || (isOne && !strings.Contains(id, "/")):
		ref := refuse(http.StatusMethodNotAllowed, approval.CodeMethod, "%s is not allowed on %s", method, path)
		return ref.status, ref.body()
	}
	ref := refuse(http.StatusNotFound, approval.CodeNotFound, "no route %s %s (POST /approvals/{id}, GET /approvals, GET /approvals/{id})", method, path)
	return ref.status, ref.body()
}

// callerOf is the signed request's IAM identity.
func callerOf(req events.LambdaFunctionURLRequest) Identity {
	a := req.RequestContext.Authorizer
	if a == nil || a.IAM == nil {
		return Identity{}
	}
	return Identity{ARN: a.IAM.UserARN, Account: a.IAM.AccountID}
}

func (h *Handler) getOne(ctx context.Context, id string) (int, []byte) {
	if !approval.ValidID(id) {
		ref := refuse(http.StatusBadRequest, approval.CodeBadRequest, "%q is not an approval id", clip(id, 100))
		return ref.status, ref.body()
	}
	a, err := approval.Load(ctx, h.DB, h.Table, id)
	if err != nil {
		ref := refuse(http.StatusServiceUnavailable, approval.CodeInternal, "reading approval %s: %v", id, err)
		return ref.status, ref.body()
	}
	if a == nil {
		ref := refuse(http.StatusNotFound, approval.CodeUnknown, "no approval %s", id)
		return ref.status, ref.body()
	}
	a.TaskToken = ""
	b, _ := json.Marshal(a)
	return http.StatusOK, b
}

func (h *Handler) list(ctx context.Context, status string) (int, []byte) {
	switch strings.ToUpper(status) {
	case "":
		status = approval.StatusPending
	case "ALL":
		status = ""
	default:
		status = strings.ToUpper(status)
	}
	list, err := approval.List(ctx, h.DB, h.Table, status)
	if err != nil {
		ref := refuse(http.StatusServiceUnavailable, approval.CodeInternal, "listing approvals: %v", err)
		return ref.status, ref.body()
	}
	if list == nil {
		list = []*approval.Approval{}
	}
	b, _ := json.Marshal(map[string]any{"approvals": list})
	return http.StatusOK, b
}
