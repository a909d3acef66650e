package handler

import (
	"context"
	"time"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
	"github.com/irflow/irflow/tasks/taskrt"
)

// recordNACL writes the network ACL entries the run is about to add to the
// case's containment ledger, before adding them: NACL entries cannot be
// tagged, so the ledger is where stop-task finds a stopped task's entries
// to remove and release finds all of them.
func (h *Handler) recordNACL(ctx context.Context, p *contract.Payload, pl *plan) error {
	at := h.now()
	var entries []ledger.Entry
	for _, e := range pl.nacl {
		d := ledger.NACLEntryData{NetworkAclID: e.NetworkAclID, RuleNumber: e.RuleNumber, Egress: e.Egress, RuleAction: "deny", Protocol: "-1",
			CidrBlock: e.CidrBlock, Ipv6Block: e.Ipv6Block, Address: e.Address, TaskArn: e.taskArn, ENI: e.ENI, VpcID: e.VpcID}
		le, err := ledger.New(ledger.NACLEntryID(e.NetworkAclID, e.Egress, e.RuleNumber), ledger.KindNACLEntry, p.Step, p.Action, e.NetworkAclID, d, at)
		if err != nil {
			return err
		}
		entries = append(entries, le)
	}
	return h.append(ctx, p, pl, entries)
}

// recordSwaps writes every instance ENI's original groups to the ledger
// before the ENI moves (the ENI's tag holds them too).
func (h *Handler) recordSwaps(ctx context.Context, p *contract.Payload, pl *plan) error {
	at := h.now()
	var entries []ledger.Entry
	transit := map[string]string{}
	for _, gp := range pl.transit {
		transit[gp.VpcID] = gp.ref()
	}
	quarantine := map[string]string{}
	for _, gp := range pl.groups {
		quarantine[gp.VpcID] = gp.ref()
	}
	for _, ep := range pl.enis {
		if ep.Treatment != treatGroups || len(ep.Previous) == 0 {
			continue
		}
		d := ledger.SecurityGroupsData{ENI: ep.ID, VpcID: ep.VpcID, InstanceID: pl.instanceID, PreviousGroups: ep.Previous,
			QuarantineGroup: quarantine[ep.VpcID], TransitGroup: transit[ep.VpcID]}
		le, err := ledger.New(ledger.SecurityGroupsID(ep.ID), ledger.KindSecurityGroups, p.Step, p.Action, ep.ID, d, at)
		if err != nil {
			return err
		}
		entries = append(entries, le)
	}
	return h.append(ctx, p, pl, entries)
}

// ledgerOn is a ledger that can be read ahead and written on what was
// read (ledger.Store).
type ledgerOn interface {
	Read(ctx context.Context, caseID string) (*ledger.Ledger, error)
	AppendOn(ctx context.Context, caseID string, read *ledger.Ledger, entries ...ledger.Entry) (*ledger.Ledger, error)
}

func (h *Handler) append(ctx context.Context, p *contract.Payload, pl *plan, entries []ledger.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	// The ledger only says how to undo what follows: it may land while the
	// step's start record is still being written (taskrt.Ungated), one
	// round trip fewer before the isolation is in effect.
	if lr, ok := h.Ledger.(ledgerOn); ok {
		l, err := lr.AppendOn(taskrt.Ungated(ctx), p.CaseID(), pl.ledger, entries...)
		pl.ledger = l
		return err
	}
	_, err := h.Ledger.Append(taskrt.Ungated(ctx), p.CaseID(), entries...)
	return err
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
