package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// ecsAPI is the part of ECS the metadata comes from.
type ecsAPI interface {
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
}

// ec2API describes the task's (or its instance's) network interfaces.
type ec2API interface {
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
}

// Handler stores the task's descriptions as evidence.
type Handler struct {
	ECS      ecsAPI
	EC2      ec2API
	Evidence *taskrt.EvidenceWriter
}

// Params are the step's `with:` (tasks/catalog/params/capture-task-metadata.json).
type Params struct {
	IncludeService *bool `json:"includeService"`
}

// New builds the handler with real clients.
func New(cfg aws.Config, env taskrt.Env) taskrt.HandlerFunc {
	h := &Handler{ECS: ecs.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg), Evidence: taskrt.NewEvidenceWriter(cfg, env)}
	return h.Handle
}

// Handle describes the task, its definition, service and ENIs and stores
// each description.
func (h *Handler) Handle(ctx context.Context, p *contract.Payload) (*contract.Result, error) {
	if p.Incident == nil || p.Target == nil {
		return nil, &contract.InvalidInputError{Field: "target", Reason: "capture-task-metadata needs the incident and target resolve-target returns"}
	}
	var params Params
	if err := p.DecodeWith(&params); err != nil {
		return nil, err
	}
	c := &capture{h: h, p: p, res: contract.OK(""), cluster: p.Target.ClusterArn}
	if c.cluster == "" {
		c.cluster = p.Incident.ClusterArn
	}
	steps := []func(context.Context) error{c.task, c.definition, c.enis}
	if params.IncludeService == nil || *params.IncludeService {
		steps = []func(context.Context) error{c.task, c.definition, c.service, c.enis}
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	c.res.Summary = fmt.Sprintf("stored %d descriptions: %s", len(c.res.Evidence), strings.Join(c.parts, ", "))
	return c.res.With("files", len(c.res.Evidence)).With("taskFound", c.taskFound), nil
}

// capture is one run: what has been stored so far and what the summary says.
type capture struct {
	h         *Handler
	p         *contract.Payload
	res       *contract.Result
	cluster   string
	defArn    string
	taskFound bool
	parts     []string
}

// store writes doc as pretty JSON evidence.
func (c *capture) store(ctx context.Context, name string, doc any) error {
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	ev, err := c.h.Evidence.Put(ctx, c.p.CaseID(), c.p.Folder(), name, "application/json", append(body, '\n'))
	if err != nil {
		return err
	}
	c.res.Add(ev)
	return nil
}

// task stores task.json; a task ECS no longer knows is recorded with the
// failure ECS reports.
func (c *capture) task(ctx context.Context) error {
	t := c.p.Target
	out, err := c.h.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(c.cluster), Tasks: []string{t.TaskArn},
		Include: []ecstypes.TaskField{ecstypes.TaskFieldTags}})
	if err != nil {
		return contract.AWSError("ecs:DescribeTasks "+t.TaskArn, err)
	}
	c.defArn, c.taskFound = t.TaskDefinitionArn, len(out.Tasks) > 0
	for _, task := range out.Tasks {
		if v := aws.ToString(task.TaskDefinitionArn); v != "" {
			c.defArn = v
		}
	}
	part := "task"
	if !c.taskFound {
		part = "task (ECS no longer knows it)"
	}
	c.parts = append(c.parts, part)
	return c.store(ctx, "task.json", taskDoc{Source: "ecs:DescribeTasks", Cluster: c.cluster, Tasks: out.Tasks, Failures: out.Failures})
}

// definition stores task-definition.json, with the definition's tags.
func (c *capture) definition(ctx context.Context) error {
	if c.defArn == "" {
		return nil
	}
	out, err := c.h.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(c.defArn),
		Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		return contract.AWSError("ecs:DescribeTaskDefinition "+c.defArn, err)
	}
	c.parts = append(c.parts, "task definition")
	return c.store(ctx, "task-definition.json", taskDefinitionDoc{Source: "ecs:DescribeTaskDefinition", TaskDefinition: out.TaskDefinition, Tags: out.Tags})
}

// service stores service.json (deployments, events) when the task has one.
func (c *capture) service(ctx context.Context) error {
	name := c.p.Target.Service
	if name == "" {
		return nil
	}
	out, err := c.h.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(c.cluster), Services: []string{name},
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil {
		return contract.AWSError("ecs:DescribeServices "+name, err)
	}
	c.parts = append(c.parts, "service "+name)
	return c.store(ctx, "service.json", serviceDoc{Source: "ecs:DescribeServices", Cluster: c.cluster, Services: out.Services, Failures: out.Failures})
}

// enis stores network-interfaces.json: the task's ENI (awsvpc) or the
// instance's (bridge, host).
func (c *capture) enis(ctx context.Context) error {
	ids := eniIDs(c.p)
	if len(ids) == 0 {
		return nil
	}
	out, err := c.h.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{{Name: aws.String("network-interface-id"), Values: ids}}})
	if err != nil {
		return contract.AWSError("ec2:DescribeNetworkInterfaces", err)
	}
	c.parts = append(c.parts, fmt.Sprintf("%d of %d ENIs", len(out.NetworkInterfaces), len(ids)))
	return c.store(ctx, "network-interfaces.json", eniDoc{Source: "ec2:DescribeNetworkInterfaces", Requested: ids, NetworkInterfaces: out.NetworkInterfaces})
}

func eniIDs(p *contract.Payload) []string {
	var ids []string
	for _, e := range p.Target.ENIs {
		if e.ID != "" {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// The documents stored, each naming the API call it came from.
type (
	taskDoc struct {
		Source   string             `json:"source"`
		Cluster  string             `json:"cluster"`
		Tasks    []ecstypes.Task    `json:"tasks"`
		Failures []ecstypes.Failure `json:"failures"`
	}
	taskDefinitionDoc struct {
		Source         string                   `json:"source"`
		TaskDefinition *ecstypes.TaskDefinition `json:"taskDefinition"`
		Tags           []ecstypes.Tag           `json:"tags"`
	}
	serviceDoc struct {
		Source   string             `json:"source"`
		Cluster  string             `json:"cluster"`
		Services []ecstypes.Service `json:"services"`
		Failures []ecstypes.Failure `json:"failures"`
	}
	eniDoc struct {
		Source            string                      `json:"source"`
		Requested         []string                    `json:"requested"`
		NetworkInterfaces []ec2types.NetworkInterface `json:"networkInterfaces"`
	}
)
