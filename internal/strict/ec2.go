package strict

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/irflow/irflow/internal/awsproxy"
	"github.com/irflow/irflow/internal/flowmodel"
)

// serveEC2 applies the EC2 rules, forwards what passes, records the
// mutations moto accepted (the flow model replays them) and rewrites the
// answers that describe ENIs: DescribeNetworkInterfaces and
// CreateNetworkInterface (who manages each ENI, its address, a task's
// public address, a stopped task's ENI gone), DescribeNatGateways and
// CreateNatGateway, DescribeInstances and RunInstances, DescribeAddresses
// (the addresses); an instance ENI's security groups in those answers and in
// DescribeNetworkInterfaceAttribute are its own (eni_groups.go), and a group
// change of an instance or of its primary ENI is carried to the other. Address filters of DescribeNetworkInterfaces and
// DescribeInstances are translated to moto's addresses first.
func (l *Layer) serveEC2(w http.ResponseWriter, r *http.Request, body []byte, svc awsproxy.Service) {
	ctx := r.Context()
	form := awsproxy.Form(r, body)
	op, c := svc.Operation, callerOf(svc)
	internal := func(what string, err error) {
		awsproxy.WriteError(w, r, svc, awsproxy.Error{Status: http.StatusInternalServerError, Code: "InternalError",
			Message: "strict: " + what + ": " + err.Error()})
	}
	if l.checkENI(ctx, w, r, svc, form) {
		return
	}
	if op == "CreateNetworkAclEntry" || op == "ReplaceNetworkAclEntry" {
		// The quota is checked against moto's entries, then the entry is
		// added: one ACL's changes go one at a time.
		defer l.locks.lock(fmt.Sprintf("nacl %s %s %s", c.AccessKey, c.Region, form.Get("NetworkAclId")))()
		if l.checkNACL(ctx, w, r, svc, form) {
			return
		}
	}
	var filters []addrFilter
	if _, ok := addrFilterNames[op]; ok {
		translated, fs, err := l.translateAddrFilters(ctx, c, op, form)
		if err != nil {
			internal("translating the address filters of "+op, err)
			return
		}
		if translated != nil {
			body, filters = []byte(translated.Encode()), fs
			r = awsproxy.Replace(r, body)
		}
	}
	folderDest := ""
	if bucket, ok := s3Folder(form); ok && op == "CreateFlowLogs" {
		folderDest = form.Get("LogDestination")
		form.Set("LogDestination", bucket)
		body = []byte(form.Encode())
		r = awsproxy.Replace(r, body)
	}
	rec := l.forward(r, body)
	out := rec.Body.Bytes()
	if rec.OK() && !readOnly(op) {
		// The account too: a world's calls come from several access keys
		// when irflow acts in it through responder roles (each AssumeRole
		// is a key of its own), one account.
		acct, _ := l.look.account(ctx, c)
		l.calls.recordAs(c, acct, op, form, out)
		l.deliverPending(ctx)
	}
	if !rec.OK() {
		rec.Send(w, out)
		return
	}
	var err error
	var refused *awsproxy.Error
	switch op {
	case "DescribeNetworkInterfaces", "CreateNetworkInterface":
		out, refused, err = l.rewriteENIs(ctx, c, form, filters, out)
	case "DescribeNatGateways", "CreateNatGateway":
		out, err = l.rewriteNATGateways(ctx, c, out)
	case "DescribeInstances", "RunInstances":
		out, err = l.rewriteInstances(ctx, c, filters, out)
	case "DescribeAddresses":
		out, err = l.rewriteAddresses(ctx, c, out)
	case "DescribeNetworkInterfaceAttribute":
		out, err = l.rewriteENIAttribute(ctx, c, out)
	case "ModifyNetworkInterfaceAttribute":
		err = l.syncGroups(ctx, c, op, formList(form, "SecurityGroupId"), form.Get("NetworkInterfaceId"))
	case "ModifyInstanceAttribute":
		err = l.syncGroups(ctx, c, op, formList(form, "GroupId"), form.Get("InstanceId"))
	case "DeleteNatGateway":
		err = l.reapNATGateway(ctx, c, form.Get("NatGatewayId"))
	case "CreateFlowLogs":
		if folderDest != "" {
			err = l.flowLogs.created(out, folderDest)
		}
	case "DescribeFlowLogs":
		out, err = l.flowLogs.present(out)
	}
	if err != nil {
		internal("rewriting "+op, err)
		return
	}
	if refused != nil {
		awsproxy.WriteError(w, r, svc, *refused)
		return
	}
	rec.Send(w, out)
}

func readOnly(op string) bool {
	return strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "List")
}

// checkNACL enforces the network ACL rule numbers and the rule quota moto
// lacks (moto already refuses a duplicate rule number with
// NetworkAclEntryAlreadyExists). It reports whether it answered.
func (l *Layer) checkNACL(ctx context.Context, w http.ResponseWriter, r *http.Request, svc awsproxy.Service, form url.Values) bool {
	acl := form.Get("NetworkAclId")
	n, err := strconv.Atoi(form.Get("RuleNumber"))
	if err != nil || n < 1 || n > 32766 {
		l.refuse(w, r, svc, svc.Operation, ruleNACLRuleNumber, awsproxy.Error{Status: http.StatusBadRequest, Code: "InvalidParameterValue",
			Message: fmt.Sprintf("Invalid value '%s' for ruleNumber. Value must be an integer from 1 to 32766.", form.Get("RuleNumber"))}, acl)
		return true
	}
	if svc.Operation != "CreateNetworkAclEntry" {
		return false // a replacement adds no rule
	}
	out, err := l.look.ec2(callerOf(svc)).DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{acl}})
	if err != nil || len(out.NetworkAcls) == 0 {
		return false // moto answers for an ACL it does not have
	}
	egress := form.Get("Egress") == "true"
	v6 := form.Get("Ipv6CidrBlock") != ""
	used := 1 // the default deny rule of this direction and family counts
	for _, e := range out.NetworkAcls[0].Entries {
		num := int(aws.ToInt32(e.RuleNumber))
		if aws.ToBool(e.Egress) != egress || (aws.ToString(e.Ipv6CidrBlock) != "") != v6 || num >= 32767 {
			continue
		}
		if num == n {
			return false // moto refuses the duplicate itself
		}
		used++
	}
	if used+1 > l.cfg.NACLRulesPerDirection {
		// The code is in the EC2 error code list (Error codes for the Amazon
		// EC2 API —
		// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html);
		// the message is the one EC2 answers, as quoted by users who hit
		// the quota (aws-deepracer-community/deepracer-for-cloud FAQ).
		l.refuse(w, r, svc, svc.Operation, ruleNACLQuota, awsproxy.Error{Status: http.StatusBadRequest, Code: "NetworkAclEntryLimitExceeded",
			Message: "The maximum number of network acl entries has been reached."}, acl)
		return true
	}
	return false
}

// callLog keeps every mutating EC2 request moto accepted through the layer,
// in order, with who made it.
type callLog struct {
	mu  sync.Mutex
	all []loggedCall
	// accountOf tells a caller's account ("" unknown); nil matches calls
	// by access key only.
	accountOf func(caller) string
}

type loggedCall struct {
	caller caller
	// account is the caller's account ("" when the layer could not tell).
	account string
	call    flowmodel.Call
}

func (cl *callLog) record(c caller, op string, form url.Values, resp []byte) {
	cl.recordAs(c, "", op, form, resp)
}

func (cl *callLog) recordAs(c caller, account, op string, form url.Values, resp []byte) {
	cl.mu.Lock()
	cl.all = append(cl.all, loggedCall{c, account, flowmodel.Call{Action: op, Params: form, Response: slices.Clone(resp), At: time.Now().UTC()}})
	cl.mu.Unlock()
}

// since returns the calls c made from index i on, and the index after them.
func (cl *callLog) since(i int, c caller) ([]flowmodel.Call, int) {
	// c's account, when the layer can tell: calls of the same account and
	// region under other access keys are c's world's too.
	account := ""
	if cl.accountOf != nil {
		account = cl.accountOf(c)
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var out []flowmodel.Call
	for _, lc := range cl.all[min(i, len(cl.all)):] {
		if lc.caller == c || account != "" && lc.account == account && lc.caller.Region == c.Region {
			out = append(out, lc.call)
		}
	}
	return out, len(cl.all)
}

func (cl *callLog) reset() {
	cl.mu.Lock()
	cl.all = nil
	cl.mu.Unlock()
}

func (cl *callLog) recorded() []RecordedCall {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	out := make([]RecordedCall, 0, len(cl.all))
	for _, lc := range cl.all {
		out = append(out, RecordedCall{AccessKey: lc.caller.AccessKey, Region: lc.caller.Region, Action: lc.call.Action,
			Params: lc.call.Params, Response: string(lc.call.Response), At: lc.call.At})
	}
	return out
}
