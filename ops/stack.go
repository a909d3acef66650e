package ops

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// Stack output keys the CDK app exports and the operator commands read.
const (
	// OutputApprovalURL is the approval API's Function URL.
	OutputApprovalURL = "ApprovalUrl"
	// OutputApprovalsTable is the approvals table's name.
	OutputApprovalsTable = "ApprovalsTable"
	// OutputAuditTable is the audit table's name.
	OutputAuditTable = "AuditTable"
	// OutputIncidentsTable is the incidents table's name (case claims,
	// dedupe locks): irflow cases lists it.
	OutputIncidentsTable = "IncidentsTable"
	// OutputEvidenceBucket is the Object Lock evidence bucket's name.
	OutputEvidenceBucket = "EvidenceBucket"
	// OutputMACKey is the ARN of the HMAC key that authenticates audit
	// records, manifest anchors and start envelopes.
	OutputMACKey = "MacKeyArn"
	// OutputStartURL is the start API's Function URL.
	OutputStartURL = "StartUrl"
)

// MACKeyAlias is the KMS alias the CDK app gives a deployment's HMAC key,
// alias/<stack in lower case>/audit-mac: irflow audit --verify finds the key
// by it when no stack outputs can be read (a copy of the tables and bucket,
// a local endpoint). KMS accepts an alias name wherever VerifyMac takes a
// KeyId (https://docs.aws.amazon.com/kms/latest/APIReference/API_VerifyMac.html),
// and only a principal allowed kms:UpdateAlias on both keys can repoint it
// (https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html).
func MACKeyAlias(stack string) string {
	return "alias/" + strings.ToLower(stack) + "/audit-mac"
}

// StateMachineOutput is the output key of a playbook's state machine ARN:
// crypto-mining → StateMachineCryptoMiningArn.
func StateMachineOutput(playbook string) string {
	var b strings.Builder
	b.WriteString("StateMachine")
	for _, part := range strings.FieldsFunc(playbook, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	b.WriteString("Arn")
	return b.String()
}

// cfnAPI is the part of CloudFormation that reads a stack's outputs.
type cfnAPI interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// Outputs are a stack's outputs by key.
type Outputs map[string]string

// StackOutputs reads the outputs of stack.
func StackOutputs(ctx context.Context, cfn cfnAPI, stack string) (Outputs, error) {
	out, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		return nil, fmt.Errorf("reading the outputs of stack %s: %w", stack, err)
	}
	if len(out.Stacks) == 0 {
		return nil, fmt.Errorf("stack %s not found", stack)
	}
	o := Outputs{}
	for _, op := range out.Stacks[0].Outputs {
		o[aws.ToString(op.OutputKey)] = aws.ToString(op.OutputValue)
	}
	return o, nil
}

// Get returns an output, or an error naming the stack, the key and the flag
// that would replace it.
func (o Outputs) Get(stack, key, flag string) (string, error) {
	if v := o[key]; v != "" {
		return v, nil
	}
	return "", fmt.Errorf("stack %s has no output %s (pass %s)", stack, key, flag)
}

// StateMachines lists the playbook state machine output keys, sorted.
func (o Outputs) StateMachines() []string {
	var keys []string
	for k := range o {
		if strings.HasPrefix(k, "StateMachine") && strings.HasSuffix(k, "Arn") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Lazy reads a stack's outputs once, on first use, so commands given every
// resource by flag never call CloudFormation.
type Lazy struct {
	CFN   cfnAPI
	Stack string
	got   Outputs
}

// Get returns an output of the stack.
func (l *Lazy) Get(ctx context.Context, key, flag string) (string, error) {
	if l.got == nil {
		o, err := StackOutputs(ctx, l.CFN, l.Stack)
		if err != nil {
			return "", fmt.Errorf("%w (or pass %s)", err, flag)
		}
		l.got = o
	}
	return l.got.Get(l.Stack, key, flag)
}

// Outputs returns every output of the stack.
func (l *Lazy) Outputs(ctx context.Context) (Outputs, error) {
	if l.got == nil {
		o, err := StackOutputs(ctx, l.CFN, l.Stack)
		if err != nil {
			return nil, err
		}
		l.got = o
	}
	return l.got, nil
}

// Need is a resource a command takes from its flag or, when the flag is
// empty, from the stack output Output. A Need with Skip set is not needed
// by this run (a --verify-only bucket).
type Need struct {
	Value        *string
	Output, Flag string
	Skip         bool
}

// Fill sets every needed empty value from the stack's outputs, read once
// and only if a value is missing: the one place the operator commands
// resolve flags against stack outputs.
func (l *Lazy) Fill(ctx context.Context, needs ...Need) error {
	for _, n := range needs {
		if n.Skip || *n.Value != "" {
			continue
		}
		v, err := l.Get(ctx, n.Output, n.Flag)
		if err != nil {
			return err
		}
		*n.Value = v
	}
	return nil
}
