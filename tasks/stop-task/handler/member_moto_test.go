package handler_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/stop-task/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

// TestMotoStopTaskInMemberAccount: irflow runs in the home account
// (moto's default, 123456789012) with its stores there; the ECS world is in
// a member account. The runtime assumes the member's responder role and the
// task stops there, read back with the member's credentials; the audit
// chain is in the home account. A member without the role: a
// PreconditionFailedError naming the account and the role, nothing stopped.
func TestMotoStopTaskInMemberAccount(t *testing.T) {
	ctx := context.Background()
	l := stricttest.Start(t)
	const memberAccount, bareAccount = "222233334444", "333344445555"
	member, err := mototest.AccountConfig(ctx, l.Cfg, mototest.DirectEndpoint(t), memberAccount)
	if err != nil {
		t.Fatal(err)
	}
	w, err := mototest.SeedWith(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	if w.Account != memberAccount {
		t.Fatalf("world seeded in %s", w.Account)
	}
	if _, err := mototest.CreateResponderRoles(ctx, member, "123456789012"); err != nil {
		t.Fatal(err)
	}
	home, err := mototest.SeedStores(ctx, l.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	home.Env.IncidentsTable = stricttest.IncidentsTable(t, l.Cfg)
	if home.Account == memberAccount {
		t.Fatal("home stores in the member account")
	}
	rt := taskrt.NewRuntime("stop-task", l.Cfg, home.Env, handler.New)
	rt.Log = taskrt.NewLogger(&bytes.Buffer{})

	caseID := mototest.Unique("case-member")
	out, err := rt.Invoke(ctx, w.Payload("stop-task", "stop", "FARGATE", caseID, false, map[string]any{"reason": "miner"}, map[string]any{"mode": "start"}))
	if err != nil {
		t.Fatalf("stop in the member account: %v", err)
	}
	if status, _ := task(t, member, w.ClusterArn, w.FargateTaskArn); status != "STOPPED" {
		t.Fatalf("member task %s after %s", status, out)
	}
	if recs := mototest.VerifyAudit(t, home, caseID, 2); recs[1].Status != "OK" {
		t.Errorf("home audit: %+v", recs[1])
	}

	// The EC2 task of the same world, in an account without the member stack.
	bare := bytes.ReplaceAll(w.Payload("stop-task", "stop", "EC2", caseID+"-bare", false, map[string]any{"reason": "miner"}, map[string]any{"mode": "start"}),
		[]byte(memberAccount), []byte(bareAccount))
	_, err = rt.Invoke(ctx, bare)
	if contract.ErrorName(err) != "PreconditionFailedError" || !strings.Contains(err.Error(), "account "+bareAccount) ||
		!strings.Contains(err.Error(), "arn:aws:iam::"+bareAccount+":role/irflow/irflow-responder-stop-task") {
		t.Fatalf("no member stack: %v", err)
	}
	if status, _ := task(t, member, w.ClusterArn, w.EC2TaskArn); status != "RUNNING" {
		t.Errorf("EC2 task %s after a refused assume", status)
	}
	if recs := mototest.VerifyAudit(t, home, caseID+"-bare", 2); recs[1].Event != "error" {
		t.Errorf("home audit of the refused case: %+v", recs[1])
	}
}
