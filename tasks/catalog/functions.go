package catalog

// Function is a Lambda of irflow that is not a state of the generated state
// machine. Its role is derived from IAM exactly as an action's is.
type Function struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Timeout     Duration    `json:"timeout"`
	MemoryMB    int         `json:"memoryMB"`
	IAM         []Statement `json:"iam"`
}

// ApprovalAPI records approval decisions behind a Function URL with AWS_IAM
// auth and answers Step Functions with the gate's task token.
var ApprovalAPI = &Function{
	Name:        "approval-api",
	Description: "Records who decided an approval gate (four eyes, exactly one decision) and answers Step Functions.",
	Timeout:     sec(30),
	MemoryMB:    256,
	IAM: base(
		Statement{Actions: []string{"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Scan"}, Resources: []string{"${ApprovalsTableArn}"}},
		// SendTaskSuccess/Failure take a task token, not a resource ARN: IAM cannot scope them.
		Statement{Actions: []string{"states:SendTaskSuccess", "states:SendTaskFailure"}, Resources: []string{anyResource}},
		// After a lost answer, the execution's history says whether the decision arrived.
		Statement{Actions: []string{"states:GetExecutionHistory"}, Resources: []string{arnIrflowExecution}},
	),
}

// StartAPI starts a playbook's state machine for the caller its Function URL
// (AWS_IAM auth) proves, the input sealed with the deployment's HMAC key so
// resolve-target can verify who asked. It starts irflow's state machines
// and makes MACs, nothing else: no audit, no tables, no data key.
var StartAPI = &Function{
	Name:        "start-api",
	Description: "Starts a playbook for the signed caller, its input sealed with the HMAC key so resolve-target can verify who asked.",
	Timeout:     sec(30),
	MemoryMB:    256,
	IAM: []Statement{
		{Actions: []string{"states:StartExecution"}, Resources: []string{arnIrflowStateMachine}},
		macSign,
	},
}
