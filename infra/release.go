package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/tasks/catalog"
)

// releaseName is the release state machine's name after the prefix:
// <prefix>-release. No playbook may take it.
const releaseName = "release"

// releasePlaybook is the release state machine as a compiled "playbook"
// (generator.CompileRelease), so it is deployed like one: its own role
// invoking exactly release-containment (load the case, undo),
// request-approval (the gate) and finalize-case (the release's case
// report), its own log group, tracing. No trigger: its input is a case id
// (incident.ReleaseInput), and the start API starts it as the playbook
// "release" (start.ReleasePlaybook), sealed, for the caller its signed
// request proves. The gate's default approvers are the deployment's.
func releasePlaybook(cfg Config) Playbook {
	b, err := generator.CompileRelease(generator.ReleaseOptions{Approvers: cfg.Approvers})
	if err != nil {
		panic(fmt.Sprintf("infra: %v", err))
	}
	return Playbook{File: "(generated)", Result: &generator.Result{Name: releaseName,
		Title: "Undo a case's containment after a four-eyes approval", ASL: b,
		Functions: []string{"request-approval", catalog.ReleaseAction, "finalize-case"}}}
}

// newReleaseStateMachine deploys <prefix>-release.
func newReleaseStateMachine(stack awscdk.Stack, cfg Config, playbooks []Playbook, fns *functions, key awskms.IKey) awsstepfunctions.StateMachine {
	for _, pb := range playbooks {
		if pb.Result.Name == releaseName {
			panic(fmt.Sprintf("infra: playbook %s is named %q, the release state machine's name", pb.File, releaseName))
		}
	}
	return newStateMachine(stack, cfg, releasePlaybook(cfg), fns, key)
}
