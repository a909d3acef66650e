package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// main synthesizes the app: the CDK CLI runs it (cdk.json: "cd infra && go
// run ."), with CDK_OUTDIR naming cdk.out and context from cdk.json and -c.
func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "irflow infra:", err)
		os.Exit(1)
	}
}

func run() error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root := RepoRoot(wd)
	// The CLI runs in the repository (cdk.json) and passes --output as
	// given; this process runs in infra/, so a relative one is the root's.
	outdir := os.Getenv("CDK_OUTDIR")
	if outdir != "" && !filepath.IsAbs(outdir) {
		outdir = filepath.Join(root, outdir)
	}
	app := NewApp(nil, outdir)
	// -c adminAccount=...: the member stack alone (docs/deploy.md).
	if m, ok, err := MemberConfigFromContext(app.Node(), root); ok {
		if err != nil {
			return err
		}
		NewMemberStack(app, m.StackName, &awscdk.StackProps{Env: env(),
			Description: jsii.String("irflow member: the responder roles irflow's administrator account assumes in this account")}, m)
		ApplyNag(app)
		app.Synth(nil)
		return nil
	}
	cfg, err := ConfigFromContext(app.Node(), root)
	if err != nil {
		return err
	}
	if err := CheckAssets(cfg.AssetDir); err != nil {
		return err
	}
	playbooks, err := LoadPlaybooks(cfg.PlaybookDir)
	if err != nil {
		return err
	}
	NewIrflowStack(app, cfg.StackName, &IrflowStackProps{
		StackProps: awscdk.StackProps{
			Env: env(),
			Description: jsii.String("irflow: incident response for Amazon ECS (Step Functions playbooks, " +
				"evidence bucket, audit log, approvals, GuardDuty triggers)"),
		},
		Config:    cfg,
		Playbooks: playbooks,
	})
	ApplyNag(app)
	app.Synth(nil)
	return nil
}

// env pins the stack to the CLI's account and region when it knows them
// (cdk deploy with credentials); without, the template stays
// environment-agnostic, which is what synth on a machine without an AWS
// account produces.
func env() *awscdk.Environment {
	account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION")
	if account == "" || region == "" {
		return nil
	}
	return &awscdk.Environment{Account: &account, Region: &region}
}

// CheckAssets fails early, with the fix, when a function's bootstrap is
// missing: Code.fromAsset would fail later with a less helpful message.
func CheckAssets(dir string) error {
	var missing []string
	for _, s := range functionSpecs() {
		if _, err := os.Stat(filepath.Join(dir, s.name, "bootstrap")); err != nil {
			missing = append(missing, s.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no bootstrap in %s for %v: run `make build` (or set -c assetDir=DIR)", dir, missing)
	}
	return nil
}

// featureFlags are the CDK feature flags the stack depends on, set in code
// so that tests and `cdk synth` build the same template. cdk.json may not
// turn them off: the CLI's context wins over these.
var featureFlags = map[string]any{
	// Server access logs are granted by bucket policy, not by the
	// LogDeliveryWrite ACL (ACLs stay disabled: BucketOwnerEnforced).
	"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
}

// NewApp returns an app with irflow's feature flags plus context (tests pass
// theirs here; the CLI passes cdk.json and -c through the environment),
// writing to outdir ("" for CDK_OUTDIR or a temporary folder).
func NewApp(context map[string]any, outdir string) awscdk.App {
	ctx := map[string]any{}
	for k, v := range featureFlags {
		ctx[k] = v
	}
	for k, v := range context {
		ctx[k] = v
	}
	props := &awscdk.AppProps{Context: &ctx}
	if outdir != "" {
		props.Outdir = &outdir
	}
	return awscdk.NewApp(props)
}
