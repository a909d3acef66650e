package handler

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
)

// naclAPI reads network ACLs and removes entries.
type naclAPI interface {
	DescribeNetworkAcls(ctx context.Context, in *ec2.DescribeNetworkAclsInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error)
	DeleteNetworkAclEntry(ctx context.Context, in *ec2.DeleteNetworkAclEntryInput, opts ...func(*ec2.Options)) (*ec2.DeleteNetworkAclEntryOutput, error)
}

// ledgerAPI reads a case's containment ledger and stamps removals.
type ledgerAPI interface {
	Read(ctx context.Context, caseID string) (*ledger.Ledger, error)
	MarkRemoved(ctx context.Context, caseID, step string, ids ...string) (*ledger.Ledger, error)
}

// removal is one ledger entry's fate (outputs.naclEntriesRemoved / Gone).
type removal struct {
	ID           string `json:"id"`
	NetworkAclID string `json:"networkAclId"`
	Egress       bool   `json:"egress"`
	RuleNumber   int32  `json:"ruleNumber"`
	CIDR         string `json:"cidr"`
	Note         string `json:"note,omitempty"`
}

type cleaned struct {
	removed, gone []removal
	note          string
}

// cleanup removes the network ACL entries the case's ledger records for
// this task (and only those: entries whose task is this one), after
// checking each is still the deny irflow added at that number, and stamps
// them removed. An entry no longer there, or replaced by another rule,
// is stamped too and left alone.
func (r *run) cleanup(ctx context.Context) (cleaned, error) {
	c := cleaned{removed: []removal{}, gone: []removal{}}
	if r.h.Ledger == nil {
		c.note = "no containment ledger configured (IRFLOW_INCIDENTS_TABLE): network ACL entries, if any, were not looked for"
		return c, nil
	}
	l, err := r.h.Ledger.Read(ctx, r.p.CaseID())
	if err != nil {
		return c, err
	}
	var mine []ledger.Entry
	acls := map[string]bool{}
	for _, e := range l.Active(ledger.KindNACLEntry) {
		var d ledger.NACLEntryData
		if err := e.Decode(&d); err != nil {
			return c, &contract.PreconditionFailedError{Reason: err.Error()}
		}
		if d.TaskArn == r.taskArn {
			mine = append(mine, e)
			acls[d.NetworkAclID] = true
		}
	}
	if len(mine) == 0 {
		return c, nil
	}
	current, err := r.describeACLs(ctx, acls)
	if err != nil {
		return c, err
	}
	var ids []string
	for _, e := range mine {
		var d ledger.NACLEntryData
		_ = e.Decode(&d)
		rm := removal{ID: e.ID, NetworkAclID: d.NetworkAclID, Egress: d.Egress, RuleNumber: d.RuleNumber, CIDR: d.CidrBlock + d.Ipv6Block}
		switch found := current[entryKey(d.NetworkAclID, d.Egress, d.RuleNumber)]; {
		case found == nil:
			rm.Note = "no entry at that number any more"
			c.gone = append(c.gone, rm)
		case !sameDeny(*found, d):
			rm.Note = "another rule holds that number now: left alone"
			c.gone = append(c.gone, rm)
		default:
			_, err := r.h.NACLs.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(d.NetworkAclID),
				RuleNumber: aws.Int32(d.RuleNumber), Egress: aws.Bool(d.Egress)})
			switch {
			case apiCode(err) == "InvalidNetworkAclEntry.NotFound":
				rm.Note = "removed meanwhile"
				c.gone = append(c.gone, rm)
			case err != nil:
				return c, contract.AWSError(fmt.Sprintf("ec2:DeleteNetworkAclEntry %s rule %d", d.NetworkAclID, d.RuleNumber), err)
			default:
				c.removed = append(c.removed, rm)
			}
		}
		ids = append(ids, e.ID)
	}
	sort.Strings(ids)
	_, err = r.h.Ledger.MarkRemoved(ctx, r.p.CaseID(), r.p.Folder(), ids...)
	return c, err
}

// describeACLs returns the entries of the ACLs by ACL, direction and number.
func (r *run) describeACLs(ctx context.Context, acls map[string]bool) (map[string]*ec2types.NetworkAclEntry, error) {
	var ids []string
	for id := range acls {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := map[string]*ec2types.NetworkAclEntry{}
	for _, id := range ids {
		d, err := r.h.NACLs.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{id}})
		if apiCode(err) == "InvalidNetworkAclID.NotFound" {
			continue // the ACL is gone, and its entries with it
		}
		if err != nil {
			return nil, contract.AWSError("ec2:DescribeNetworkAcls "+id, err)
		}
		for _, acl := range d.NetworkAcls {
			for i, e := range acl.Entries {
				out[entryKey(id, aws.ToBool(e.Egress), aws.ToInt32(e.RuleNumber))] = &acl.Entries[i]
			}
		}
	}
	return out, nil
}

func entryKey(acl string, egress bool, rule int32) string {
	return fmt.Sprintf("%s|%t|%d", acl, egress, rule)
}

// sameDeny reports whether e is the deny the ledger recorded.
func sameDeny(e ec2types.NetworkAclEntry, d ledger.NACLEntryData) bool {
	return e.RuleAction == ec2types.RuleActionDeny && aws.ToString(e.Protocol) == "-1" &&
		aws.ToString(e.CidrBlock) == d.CidrBlock && aws.ToString(e.Ipv6CidrBlock) == d.Ipv6Block
}
