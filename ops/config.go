package ops

import (
	"context"
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// DefaultStack is the CloudFormation stack name the CDK app deploys.
const DefaultStack = "Irflow"

// Options are the flags every operator command shares.
type Options struct {
	Region      string
	Profile     string
	EndpointURL string
	Stack       string
}

// AddFlags registers --region, --profile, --endpoint-url and --stack.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Region, "region", "", "AWS region (default: the standard chain, AWS_REGION or the profile's)")
	fs.StringVar(&o.Profile, "profile", "", "shared config profile (default: the standard chain, AWS_PROFILE)")
	fs.StringVar(&o.EndpointURL, "endpoint-url", "", "send AWS API calls to this endpoint (moto server, a proxy)")
	fs.StringVar(&o.Stack, "stack", DefaultStack, "the irflow CloudFormation stack whose outputs name the resources")
}

// Config loads the AWS configuration through the standard credential
// chain, with the options' region, profile and endpoint on top.
func (o *Options) Config(ctx context.Context) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if o.EndpointURL != "" {
		cfg.BaseEndpoint = aws.String(o.EndpointURL)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: pass --region or set AWS_REGION")
	}
	return cfg, nil
}
