package handler

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	gdtypes "github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/irflow/irflow/tasks/mac/mactest"
)

// sharedKey is the deployment's MAC key in the unit tests: the start API
// (Seal) and resolve-target both hold it.
var sharedKey, _ = mactest.Key("arn:aws:kms:us-east-1:111122223333:key/hmac")

type fakeDB struct {
	put func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	get func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	del func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error)
	// transact answers TransactWriteItems; nil cancels every transaction,
	// so a test without it takes the items one by one (the slow path).
	transact func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error)
	puts     []*dynamodb.PutItemInput
	dels     []*dynamodb.DeleteItemInput
	txs      []*dynamodb.TransactWriteItemsInput
	// mu serializes the calls: the handler claims the case and takes the
	// lock at once.
	mu sync.Mutex
}

var _ dynamoAPI = (*fakeDB)(nil)

func (f *fakeDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts = append(f.puts, in)
	if f.put == nil {
		return &dynamodb.PutItemOutput{}, nil
	}
	return f.put(in)
}

func (f *fakeDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.get == nil {
		return &dynamodb.GetItemOutput{}, nil
	}
	return f.get(in)
}

func (f *fakeDB) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dels = append(f.dels, in)
	if f.del == nil {
		return &dynamodb.DeleteItemOutput{}, nil
	}
	return f.del(in)
}

func (f *fakeDB) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.txs = append(f.txs, in)
	if f.transact == nil {
		return nil, &ddbtypes.TransactionCanceledException{Message: aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed]")}
	}
	return f.transact(in)
}

// pkOf is the incidents-table key an item or key map names.
func pkOf(item map[string]ddbtypes.AttributeValue) string {
	v, _ := item["pk"].(*ddbtypes.AttributeValueMemberS)
	if v == nil {
		return ""
	}
	return v.Value
}

// taskPuts are the puts of task locks (task#...), in order.
func (f *fakeDB) taskPuts() []*dynamodb.PutItemInput {
	var out []*dynamodb.PutItemInput
	for _, p := range f.puts {
		if strings.HasPrefix(pkOf(p.Item), "task#") {
			out = append(out, p)
		}
	}
	return out
}

// onTask applies fn to puts of task locks only; case claims succeed.
func onTask(fn func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)) func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
	return func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		if strings.HasPrefix(pkOf(in.Item), "task#") {
			return fn(in)
		}
		return &dynamodb.PutItemOutput{}, nil
	}
}

// fakeGuardDuty knows findings by detector and id.
type fakeGuardDuty struct {
	findings map[string][]gdtypes.Finding
	err      error
	calls    int
}

var _ guardDutyAPI = (*fakeGuardDuty)(nil)

func (f *fakeGuardDuty) GetFindings(_ context.Context, in *guardduty.GetFindingsInput, _ ...func(*guardduty.Options)) (*guardduty.GetFindingsOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	var out []gdtypes.Finding
	for _, fd := range f.findings[aws.ToString(in.DetectorId)] {
		for _, id := range in.FindingIds {
			if aws.ToString(fd.Id) == id {
				out = append(out, fd)
			}
		}
	}
	return &guardduty.GetFindingsOutput{Findings: out}, nil
}

// sampleDetector holds the sample findings of examples/inputs.
const sampleDetector = "12abc34d567e8fa901bc2d34e56789f0"

// gdFinding is a finding as GetFindings returns it.
func gdFinding(id, account, taskArn, typ string) gdtypes.Finding {
	return gdtypes.Finding{Id: aws.String(id), AccountId: aws.String(account), Type: aws.String(typ),
		Resource: &gdtypes.Resource{ResourceType: aws.String("ECSCluster"), EcsClusterDetails: &gdtypes.EcsClusterDetails{
			TaskDetails: &gdtypes.EcsTaskDetails{Arn: aws.String(taskArn)}}}}
}

// sampleGuardDuty confirms the Fargate sample finding.
func sampleGuardDuty() *fakeGuardDuty {
	return &fakeGuardDuty{findings: map[string][]gdtypes.Finding{sampleDetector: {
		gdFinding("b2c6a1f0e4d94a1f8c7e5d3b2a190817", "111122223333", fargateArn, "Impact:Runtime/CryptoMinerExecuted")}}}
}

type fakeECS struct {
	tasks     func(*ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error)
	taskDef   func(*ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error)
	instances func(*ecs.DescribeContainerInstancesInput) (*ecs.DescribeContainerInstancesOutput, error)
}

var _ ecsAPI = (*fakeECS)(nil)

func (f *fakeECS) DescribeTasks(_ context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	return f.tasks(in)
}

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	return f.taskDef(in)
}

func (f *fakeECS) DescribeContainerInstances(_ context.Context, in *ecs.DescribeContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error) {
	return f.instances(in)
}

type fakeEC2 struct {
	enis      func(*ec2.DescribeNetworkInterfacesInput) (*ec2.DescribeNetworkInterfacesOutput, error)
	instances func(*ec2.DescribeInstancesInput) (*ec2.DescribeInstancesOutput, error)
}

var _ ec2API = (*fakeEC2)(nil)

func (f *fakeEC2) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	return f.enis(in)
}

func (f *fakeEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return f.instances(in)
}

type fakeASG struct {
	describe func(*autoscaling.DescribeAutoScalingInstancesInput) (*autoscaling.DescribeAutoScalingInstancesOutput, error)
}

var _ asgAPI = (*fakeASG)(nil)

func (f *fakeASG) DescribeAutoScalingInstances(_ context.Context, in *autoscaling.DescribeAutoScalingInstancesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingInstancesOutput, error) {
	return f.describe(in)
}

// The fake world: a Fargate task (awsvpc, ENI eni-f) and an EC2 task
// (bridge) on i-1 with two ENIs and a volume, in cluster "payments".
const (
	fargateArn = "arn:aws:ecs:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0"
	ec2Arn     = "arn:aws:ecs:us-east-1:111122223333:task/payments/5a4b3c2d1e0f49a8b7c6d5e4f3a2b1c0"
	edgeArn    = "arn:aws:ecs:us-east-1:111122223333:task/payments/99999999999999999999999999999999"
	ciArn      = "arn:aws:ecs:us-east-1:111122223333:container-instance/payments/ci1"
	fixedNow   = 1_800_000_000
)

func now() time.Time { return time.Unix(fixedNow, 0) }

func tasks() map[string]ecstypes.Task {
	return map[string]ecstypes.Task{
		fargateArn: {TaskArn: aws.String(fargateArn), ClusterArn: aws.String("arn:aws:ecs:us-east-1:111122223333:cluster/payments"),
			LaunchType: ecstypes.LaunchTypeFargate, TaskDefinitionArn: aws.String("td/api:1"), Group: aws.String("service:payments-api"),
			LastStatus: aws.String("RUNNING"), EnableExecuteCommand: true,
			Tags: []ecstypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
			Attachments: []ecstypes.Attachment{{Type: aws.String("ElasticNetworkInterface"), Details: []ecstypes.KeyValuePair{
				{Name: aws.String("networkInterfaceId"), Value: aws.String("eni-f")}, {Name: aws.String("subnetId"), Value: aws.String("subnet-1")}}}},
			Containers: []ecstypes.Container{{Name: aws.String("api"), Image: aws.String("api:1"), ImageDigest: aws.String("sha256:abc"), RuntimeId: aws.String("rt-1")},
				{Name: aws.String("log_router"), Image: aws.String("fluent-bit")}},
			Overrides: &ecstypes.TaskOverride{TaskRoleArn: aws.String("arn:aws:iam::111122223333:role/override")}},
		ec2Arn: {TaskArn: aws.String(ec2Arn), ClusterArn: aws.String("arn:aws:ecs:us-east-1:111122223333:cluster/payments"),
			LaunchType: ecstypes.LaunchTypeEc2, TaskDefinitionArn: aws.String("td/worker:1"), ContainerInstanceArn: aws.String(ciArn),
			LastStatus: aws.String("RUNNING"), Containers: []ecstypes.Container{{Name: aws.String("worker"), Image: aws.String("worker:2")}}},
		edgeArn: {TaskArn: aws.String(edgeArn), LaunchType: ecstypes.LaunchTypeExternal, TaskDefinitionArn: aws.String("td/worker:1"),
			ContainerInstanceArn: aws.String(ciArn), LastStatus: aws.String("RUNNING")},
	}
}

func defs() map[string]*ecstypes.TaskDefinition {
	logs := func(prefix string) *ecstypes.LogConfiguration {
		return &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{"awslogs-group": "/ecs/app", "awslogs-stream-prefix": prefix}}
	}
	return map[string]*ecstypes.TaskDefinition{
		"td/api:1": {NetworkMode: ecstypes.NetworkModeAwsvpc, TaskRoleArn: aws.String("arn:aws:iam::111122223333:role/api"),
			ExecutionRoleArn: aws.String("arn:aws:iam::111122223333:role/exec"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"), LogConfiguration: logs("api")},
				{Name: aws.String("log_router"), LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwsfirelens}}}},
		"td/worker:1": {TaskRoleArn: aws.String("arn:aws:iam::111122223333:role/worker"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("worker"), LogConfiguration: logs("worker")}}},
	}
}

func eniGroups(ids ...string) []ec2types.GroupIdentifier {
	var out []ec2types.GroupIdentifier
	for _, id := range ids {
		out = append(out, ec2types.GroupIdentifier{GroupId: aws.String(id)})
	}
	return out
}

// newWorld returns a handler whose fakes describe the fake world.
func newWorld() (*Handler, *fakeDB) {
	db := &fakeDB{}
	h := &Handler{
		DB: db, IncidentsTable: "incidents", Now: now, GuardDuty: sampleGuardDuty(), MAC: sharedKey,
		ECS: &fakeECS{
			tasks: func(in *ecs.DescribeTasksInput) (*ecs.DescribeTasksOutput, error) {
				if t, ok := tasks()[in.Tasks[0]]; ok {
					return &ecs.DescribeTasksOutput{Tasks: []ecstypes.Task{t}}, nil
				}
				return &ecs.DescribeTasksOutput{Failures: []ecstypes.Failure{{Arn: aws.String(in.Tasks[0]), Reason: aws.String("MISSING")}}}, nil
			},
			taskDef: func(in *ecs.DescribeTaskDefinitionInput) (*ecs.DescribeTaskDefinitionOutput, error) {
				return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: defs()[aws.ToString(in.TaskDefinition)]}, nil
			},
			instances: func(in *ecs.DescribeContainerInstancesInput) (*ecs.DescribeContainerInstancesOutput, error) {
				return &ecs.DescribeContainerInstancesOutput{ContainerInstances: []ecstypes.ContainerInstance{{Ec2InstanceId: aws.String("i-1")}}}, nil
			},
		},
		EC2: &fakeEC2{
			enis: func(in *ec2.DescribeNetworkInterfacesInput) (*ec2.DescribeNetworkInterfacesOutput, error) {
				return &ec2.DescribeNetworkInterfacesOutput{NetworkInterfaces: []ec2types.NetworkInterface{{NetworkInterfaceId: aws.String("eni-f"),
					PrivateIpAddress: aws.String("10.0.1.5"), SubnetId: aws.String("subnet-1"), VpcId: aws.String("vpc-1"), Groups: eniGroups("sg-app")}}}, nil
			},
			instances: func(in *ec2.DescribeInstancesInput) (*ec2.DescribeInstancesOutput, error) {
				return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: []ec2types.Instance{{InstanceId: aws.String("i-1"), VpcId: aws.String("vpc-1"),
					BlockDeviceMappings: []ec2types.InstanceBlockDeviceMapping{{Ebs: &ec2types.EbsInstanceBlockDevice{VolumeId: aws.String("vol-1")}}},
					NetworkInterfaces: []ec2types.InstanceNetworkInterface{
						{NetworkInterfaceId: aws.String("eni-2"), Attachment: &ec2types.InstanceNetworkInterfaceAttachment{DeviceIndex: aws.Int32(1)},
							SubnetId: aws.String("subnet-2"), VpcId: aws.String("vpc-1"), PrivateIpAddress: aws.String("10.0.2.9"), Groups: eniGroups("sg-b")},
						{NetworkInterfaceId: aws.String("eni-1"), Attachment: &ec2types.InstanceNetworkInterfaceAttachment{DeviceIndex: aws.Int32(0)},
							SubnetId: aws.String("subnet-1"), VpcId: aws.String("vpc-1"), PrivateIpAddress: aws.String("10.0.1.9"), Groups: eniGroups("sg-a", "sg-b")},
					}}}}}}, nil
			},
		},
		ASG: &fakeASG{describe: func(in *autoscaling.DescribeAutoScalingInstancesInput) (*autoscaling.DescribeAutoScalingInstancesOutput, error) {
			return &autoscaling.DescribeAutoScalingInstancesOutput{AutoScalingInstances: []astypes.AutoScalingInstanceDetails{{AutoScalingGroupName: aws.String("ecs-asg")}}}, nil
		}},
	}
	return h, db
}
