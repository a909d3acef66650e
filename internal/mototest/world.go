package mototest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/tasks/taskrt"
)

// World is a seeded ECS environment in moto: a VPC with a subnet and an app
// security group, an ECS cluster with an EC2 container instance (in an Auto
// Scaling group) running a bridge-mode task, a Fargate service running an
// awsvpc task with its own ENI, a task role, log groups with events, and
// irflow's own stores (evidence bucket, audit/approvals/incidents tables,
// topic). Every name is unique, so worlds never collide on one server.
type World struct {
	Cfg aws.Config
	Env taskrt.Env

	Account                   string
	VpcID, SubnetID, AppSG    string
	ClusterName, ClusterArn   string
	InstanceID                string
	InstanceENI               string
	VolumeIDs                 []string
	ContainerInstanceArn      string
	ASGName                   string
	ServiceName               string
	FargateTaskArn            string
	FargateENI                string
	EC2TaskArn                string
	FargateTaskDef, EC2Def    string
	TaskRoleName, TaskRoleArn string
	LogGroup                  string
}

// Seed builds a new world, failing the test on any error.
func Seed(t testing.TB) *World {
	t.Helper()
	w, err := SeedWith(context.Background(), Config(t))
	if err != nil {
		t.Fatalf("seeding moto: %v", err)
	}
	return w
}

// SeedWith builds a new world against cfg (moto or a fault proxy in front of it).
func SeedWith(ctx context.Context, cfg aws.Config) (*World, error) {
	w := &World{Cfg: cfg, Account: "123456789012"}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"stores", w.seedStores},
		{"network", w.seedNetwork},
		{"iam", w.seedIAM},
		{"instance", w.seedInstance},
		{"cluster", w.seedCluster},
		{"logs", w.seedLogs},
		{"tasks", w.seedTasks},
	}
	for _, s := range steps {
		if err := s.fn(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return w, nil
}

// SeedStores creates irflow's own stores (evidence bucket, audit,
// approvals and incidents tables, topic) with unique names, without an ECS
// world: the bench builds its worlds itself (internal/worlds). The World it
// returns holds Cfg, Account and Env only.
func SeedStores(ctx context.Context, cfg aws.Config) (*World, error) {
	w := &World{Cfg: cfg, Account: "123456789012"}
	if err := w.seedStores(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *World) seedStores(ctx context.Context) error {
	w.Env = taskrt.Env{
		EvidenceBucket: Unique("evidence"),
		AuditTable:     Unique("audit"),
		ApprovalsTable: Unique("approvals"),
		IncidentsTable: Unique("incidents"),
		ApprovalURL:    "https://approvals.example.invalid/",
	}
	s3c := s3.NewFromConfig(w.Cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(w.Env.EvidenceBucket), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil && !resent(err, "BucketAlreadyOwnedByYou") {
		return err
	}
	if _, err := s3c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
		Bucket: aws.String(w.Env.EvidenceBucket),
		ObjectLockConfiguration: &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
			Rule: &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{Mode: s3types.ObjectLockRetentionModeGovernance, Days: aws.Int32(1)}}},
	}); err != nil {
		return err
	}
	db := dynamodb.NewFromConfig(w.Cfg)
	tables := []struct {
		name, pk, sk string
		skType       ddbtypes.ScalarAttributeType
	}{
		{w.Env.AuditTable, "caseId", "seq", ddbtypes.ScalarAttributeTypeN},
		{w.Env.ApprovalsTable, "approvalId", "", ""},
		{w.Env.IncidentsTable, "pk", "", ""}, // task#<taskArn>, case#<caseId>
	}
	for _, tb := range tables {
		in := &dynamodb.CreateTableInput{
			TableName:   aws.String(tb.name),
			BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{
				{AttributeName: aws.String(tb.pk), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String(tb.pk), KeyType: ddbtypes.KeyTypeHash}},
		}
		if tb.sk != "" {
			in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(tb.sk), AttributeType: tb.skType})
			in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(tb.sk), KeyType: ddbtypes.KeyTypeRange})
		}
		if _, err := db.CreateTable(ctx, in); err != nil && !resent(err, "ResourceInUseException") {
			return err
		}
	}
	// The HMAC key of audit records, manifest anchors and start envelopes.
	key, err := kms.NewFromConfig(w.Cfg).CreateKey(ctx, &kms.CreateKeyInput{
		KeySpec: kmstypes.KeySpecHmac256, KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac, Description: aws.String("irflow MAC key")})
	if err != nil {
		return err
	}
	w.Env.MACKeyArn = aws.ToString(key.KeyMetadata.Arn)
	topic, err := sns.NewFromConfig(w.Cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(Unique("irflow"))})
	if err != nil {
		return err
	}
	w.Env.TopicArn = aws.ToString(topic.TopicArn)
	w.Account = strings.Split(w.Env.TopicArn, ":")[4]
	return nil
}

func (w *World) seedNetwork(ctx context.Context) error {
	c := ec2.NewFromConfig(w.Cfg)
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16")})
	if err != nil {
		return err
	}
	w.VpcID = aws.ToString(vpc.Vpc.VpcId)
	// moto 5.2.5 fails RunTask of an awsvpc task (HTTP 500) unless the VPC has
	// DNS hostnames on: the task's ENI needs a private DNS name.
	if _, err := c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: vpc.Vpc.VpcId,
		EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		return err
	}
	sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.20.1.0/24"), AvailabilityZone: aws.String(Region + "a")})
	if err != nil {
		return err
	}
	w.SubnetID = aws.ToString(sub.Subnet.SubnetId)
	name := Unique("app")
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("app"), VpcId: vpc.Vpc.VpcId})
	if err != nil && !resent(err, "InvalidGroup.Duplicate") {
		return err
	}
	if err == nil {
		w.AppSG = aws.ToString(sg.GroupId)
		return nil
	}
	found, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("group-name"), Values: []string{name}}, {Name: aws.String("vpc-id"), Values: []string{w.VpcID}}}})
	if err != nil || len(found.SecurityGroups) == 0 {
		return fmt.Errorf("security group %s: %v", name, err)
	}
	w.AppSG = aws.ToString(found.SecurityGroups[0].GroupId)
	return nil
}

func (w *World) seedIAM(ctx context.Context) error {
	w.TaskRoleName = Unique("task-role")
	r, err := iam.NewFromConfig(w.Cfg).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(w.TaskRoleName),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil && resent(err, "EntityAlreadyExists") {
		got, gerr := iam.NewFromConfig(w.Cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(w.TaskRoleName)})
		if gerr != nil {
			return gerr
		}
		w.TaskRoleArn = aws.ToString(got.Role.Arn)
		return nil
	}
	if err != nil {
		return err
	}
	w.TaskRoleArn = aws.ToString(r.Role.Arn)
	return nil
}

func (w *World) seedInstance(ctx context.Context) error {
	c := ec2.NewFromConfig(w.Cfg)
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeM6iLarge, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: aws.String(w.SubnetID), SecurityGroupIds: []string{w.AppSG},
	})
	if err != nil {
		return err
	}
	w.InstanceID = aws.ToString(out.Instances[0].InstanceId)
	for _, ni := range out.Instances[0].NetworkInterfaces {
		w.InstanceENI = aws.ToString(ni.NetworkInterfaceId)
	}
	for _, bdm := range out.Instances[0].BlockDeviceMappings {
		if bdm.Ebs != nil {
			w.VolumeIDs = append(w.VolumeIDs, aws.ToString(bdm.Ebs.VolumeId))
		}
	}
	if len(w.VolumeIDs) == 0 {
		d, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{w.InstanceID}})
		if err == nil {
			for _, bdm := range d.Reservations[0].Instances[0].BlockDeviceMappings {
				if bdm.Ebs != nil {
					w.VolumeIDs = append(w.VolumeIDs, aws.ToString(bdm.Ebs.VolumeId))
				}
			}
		}
	}
	as := autoscaling.NewFromConfig(w.Cfg)
	w.ASGName = Unique("ecs-asg")
	if _, err := as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(w.ASGName), InstanceId: aws.String(w.InstanceID),
		MinSize: aws.Int32(0), MaxSize: aws.Int32(3), VPCZoneIdentifier: aws.String(w.SubnetID),
	}); err != nil && !resent(err, "AlreadyExists") {
		return fmt.Errorf("asg: %w", err)
	}
	if _, err := as.AttachInstances(ctx, &autoscaling.AttachInstancesInput{AutoScalingGroupName: aws.String(w.ASGName), InstanceIds: []string{w.InstanceID}}); err != nil {
		return fmt.Errorf("asg attach: %w", err)
	}
	return nil
}

func (w *World) seedCluster(ctx context.Context) error {
	c := ecs.NewFromConfig(w.Cfg)
	w.ClusterName = Unique("cluster")
	cl, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(w.ClusterName)})
	if err != nil {
		return err
	}
	w.ClusterArn = aws.ToString(cl.Cluster.ClusterArn)
	doc := fmt.Sprintf(`{"instanceId":"%s","region":"%s","accountId":"%s","availabilityZone":"%sa"}`, w.InstanceID, Region, w.Account, Region)
	ci, err := c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{
		Cluster: aws.String(w.ClusterName), InstanceIdentityDocument: aws.String(doc),
	})
	if err != nil {
		return err
	}
	w.ContainerInstanceArn = aws.ToString(ci.ContainerInstance.ContainerInstanceArn)
	return nil
}

func (w *World) seedLogs(ctx context.Context) error {
	c := cloudwatchlogs.NewFromConfig(w.Cfg)
	w.LogGroup = "/ecs/" + Unique("app")
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(w.LogGroup)}); err != nil && !resent(err, "ResourceAlreadyExistsException") {
		return err
	}
	return nil
}

// resent reports whether err is the "already exists" answer to a create the
// SDK sent twice (a reply lost under load): the first one succeeded, and
// every name in a world is unique, so nobody else made it.
func resent(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}
