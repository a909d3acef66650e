package strict

import (
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/mototest"
)

func groupsOf(t *testing.T, c *ec2.Client, eni string) []string {
	t.Helper()
	out, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
	if err != nil || len(out.NetworkInterfaces) != 1 {
		t.Fatalf("DescribeNetworkInterfaces %s: %v", eni, err)
	}
	var gs []string
	for _, g := range out.NetworkInterfaces[0].Groups {
		gs = append(gs, aws.ToString(g.GroupId))
	}
	return gs
}

// TestMotoFargateENI: moto lets the account change a Fargate task ENI's
// groups; through the layer the change is refused with AuthFailure and the
// groups read back unchanged, detaching and deleting are refused too, tags
// pass, and the ENI reads back as AWS shows it.
func TestMotoFargateENI(t *testing.T) {
	w := mototest.Seed(t)
	l, url := serve(t, mototest.Endpoint(t), Config{})
	strict, direct := ec2.NewFromConfig(sdk(url)), ec2.NewFromConfig(w.Cfg)
	q, err := direct.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(mototest.Unique("quarantine")),
		Description: aws.String("q"), VpcId: aws.String(w.VpcID)})
	if err != nil {
		t.Fatal(err)
	}
	quarantine := aws.ToString(q.GroupId)

	_, err = strict.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(w.FargateENI), Groups: []string{quarantine}})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)
	if gs := groupsOf(t, direct, w.FargateENI); !slices.Equal(gs, []string{w.AppSG}) {
		t.Errorf("groups after the refused change: %v; want [%s]", gs, w.AppSG)
	}
	_, err = strict.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(w.FargateENI)})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)
	if _, err := strict.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{w.FargateENI},
		Tags: []ec2types.Tag{{Key: aws.String("irflow:case"), Value: aws.String("c1")}}}); err != nil {
		t.Errorf("tagging the task ENI: %v", err)
	}

	out, err := strict.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{w.FargateENI}})
	if err != nil {
		t.Fatal(err)
	}
	ni := out.NetworkInterfaces[0]
	if !aws.ToBool(ni.RequesterManaged) || aws.ToString(ni.RequesterId) != DefaultECSRequesterID || ni.Attachment == nil ||
		aws.ToString(ni.Attachment.InstanceOwnerId) != DefaultFargateOwnerID || len(ni.TagSet) != 1 {
		t.Errorf("Fargate ENI shown as %+v", ni)
	}
	_, err = strict.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: ni.Attachment.AttachmentId})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)

	// moto itself takes the change the layer refused.
	if _, err := direct.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(w.FargateENI),
		Groups: []string{quarantine}}); err != nil {
		t.Fatalf("moto refused it too (the rule would be moot): %v", err)
	}
	if gs := groupsOf(t, direct, w.FargateENI); !slices.Equal(gs, []string{quarantine}) {
		t.Errorf("moto did not change the groups: %v", gs)
	}
	// The instance's own ENI is the account's: changes pass.
	if _, err := strict.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(w.InstanceENI),
		Groups: []string{quarantine}}); err != nil {
		t.Errorf("the instance ENI: %v", err)
	}
}

// TestMotoAwsvpcOnEC2: an awsvpc task on a container instance gets an ENI
// moto leaves unattached; through the layer it reads back attached to the
// instance (also when listed by attachment.instance-id) and refuses changes.
func TestMotoAwsvpcOnEC2(t *testing.T) {
	w := mototest.Seed(t)
	l, url := serve(t, mototest.Endpoint(t), Config{})
	e := ecs.NewFromConfig(sdk(url))
	td, err := e.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(mototest.Unique("awsvpc-ec2")),
		NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityEc2},
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("app:1"), Memory: aws.Int32(128)}}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := e.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(w.ClusterName), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
		LaunchType: ecstypes.LaunchTypeEc2, NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{w.SubnetID}, SecurityGroups: []string{w.AppSG}}}})
	if err != nil || len(run.Tasks) != 1 {
		t.Fatalf("RunTask: %v %+v", err, run)
	}
	var eni string
	for _, d := range run.Tasks[0].Attachments[0].Details {
		if aws.ToString(d.Name) == "networkInterfaceId" {
			eni = aws.ToString(d.Value)
		}
	}
	strict, direct := ec2.NewFromConfig(sdk(url)), ec2.NewFromConfig(w.Cfg)
	byInstance := &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{w.InstanceID}}}}
	if _, ok := enisByID(t, direct, byInstance)[eni]; ok {
		t.Fatal("moto now attaches task ENIs: the layer's addition is moot")
	}
	got := enisByID(t, strict, byInstance)
	ni, ok := got[eni]
	if _, own := got[w.InstanceENI]; !ok || !own {
		t.Fatalf("ENIs of %s through the layer: %v; want the task ENI %s and the instance's %s", w.InstanceID, got, eni, w.InstanceENI)
	}
	if !aws.ToBool(ni.RequesterManaged) || aws.ToString(ni.Attachment.InstanceId) != w.InstanceID || aws.ToString(ni.Attachment.InstanceOwnerId) != w.Account ||
		aws.ToString(ni.Description) != "arn:aws:ecs:us-east-1:"+w.Account+":attachment/"+aws.ToString(run.Tasks[0].Attachments[0].Id) {
		t.Errorf("task ENI shown as %+v, attachment %+v", ni, ni.Attachment)
	}
	_, err = strict.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eni),
		SourceDestCheck: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)}})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)
}
