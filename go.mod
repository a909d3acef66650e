module github.com/irflow/irflow

go 1.26

// node_modules holds the CDK CLI's `cdk init` Go templates; they are not ours.
ignore ./node_modules

require (
	github.com/santhosh-tekuri/jsonschema/v5 v5.3.1
	gopkg.in/yaml.v3 v3.0.1
)
