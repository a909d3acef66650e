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
// invoking exactly request-approval and release-containment, its own log
// group, tracing. Not manual: the start API starts playbooks, whose input
// is a task; the release's input is a resolved case. The gate's default
// approvers are the deployment's.
func releasePlaybook(cfg Config) Playbook {
	b, err := generator.CompileRelease(generator.ReleaseOptions{Approvers: cfg.Approvers})
	if err != nil {
		panic(fmt.Sprintf("infra: %v", err))
	}
	return Playbook{File: "(generated)", Result: &generator.Result{Name: releaseName,
		Title: "Undo a case's containment after a four-eyes approval", ASL: b,
		Functions: []string{"request-approval", catalog.ReleaseAction}}}
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
