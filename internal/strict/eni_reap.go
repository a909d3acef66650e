package strict

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/irflow/irflow/internal/awsproxy"
)

// Task ENI deletion (rule ecs-task-eni-deleted). "DEPROVISIONING: Amazon
// ECS has to perform additional steps after the task has stopped but before
// the task transitions to the STOPPED state. For example, for tasks that use
// the awsvpc network mode, the elastic network interface needs to be
// detached and deleted." (Amazon ECS task lifecycle —
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html);
// and "When you delete the resource associated with a requester-managed
// network interface, the AWS service detaches the network interface and
// deletes it." (Requester-managed network interfaces —
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/requester-managed-eni.html).
// moto keeps a stopped task's ENI in use forever, and a deleted NAT
// gateway's ENI too.
//
// The layer deletes such an ENI in moto, as ECS (or the NAT gateway) would,
// once the task is STOPPED as the layer presents it (a stop held for an
// unreachable agent is not a stop): when a StopTask it forwards is carried
// out, when a held stop is delivered, when a task document shows the task
// STOPPED, and when a DescribeNetworkInterfaces answer or a change names the
// ENI of a task moto now shows STOPPED (a task stopped past the layer).
// moto then answers for the ENI as for any that does not exist: the code
// InvalidNetworkInterfaceID.NotFound (Error codes for the Amazon EC2 API —
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html)
// with EC2's message "The networkInterface ID 'eni-...' does not exist",
// and the task's attachment shows status DELETED (Attachment: "Valid values
// are PRECREATED, CREATED, ATTACHING, ATTACHED, DETACHING, DETACHED, DELETED,
// and FAILED." —
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Attachment.html).

// eniNotFound is EC2's answer for an ENI that does not exist, as EC2 (and
// moto) words it.
func eniNotFound(eni string) awsproxy.Error {
	return awsproxy.Error{Status: http.StatusBadRequest, Code: "InvalidNetworkInterfaceID.NotFound",
		Message: fmt.Sprintf("The networkInterface ID '%s' does not exist", eni)}
}

// reapENI deletes eni in moto, keeping the address it was shown at for the
// documents that still name it.
func (l *Layer) reapENI(ctx context.Context, c caller, subnet, eni string) error {
	if l.tasks.isReaped(eni) {
		return nil
	}
	if _, _, err := l.presentedAddr(ctx, c, subnet, eni); err != nil {
		return err
	}
	_, err := l.look.ec2(c).DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: &eni})
	if err != nil && !notFound(err) {
		return fmt.Errorf("strict: deleting %s: %w", eni, err)
	}
	l.tasks.markReaped(eni)
	l.addrs.forget(eni)
	return nil
}

// taskENIs lists the ENI attachments of an ECS task document: attachment,
// ENI ID and subnet.
func taskENIs(t map[string]any) (out []struct {
	att         map[string]any
	eni, subnet string
}) {
	for _, a := range objs(t, "attachments") {
		if str(a, "type") != "ElasticNetworkInterface" {
			continue
		}
		if eni := detail(a, "networkInterfaceId"); eni != "" {
			out = append(out, struct {
				att         map[string]any
				eni, subnet string
			}{a, eni, detail(a, "subnetId")})
		}
	}
	return out
}

// detail returns the value of an attachment detail.
func detail(a map[string]any, name string) string {
	for _, d := range objs(a, "details") {
		if str(d, "name") == name {
			return str(d, "value")
		}
	}
	return ""
}

// setDetail sets (or adds) an attachment detail.
func setDetail(a map[string]any, name, value string) {
	for _, d := range objs(a, "details") {
		if str(d, "name") == name {
			d["value"] = value
			return
		}
	}
	ds, _ := a["details"].([]any)
	a["details"] = append(ds, map[string]any{"name": name, "value": value})
}

// reapStoppedTask deletes the ENIs of a task document that shows STOPPED.
func (l *Layer) reapStoppedTask(ctx context.Context, c caller, t map[string]any) error {
	if str(t, "lastStatus") != "STOPPED" {
		return nil
	}
	for _, e := range taskENIs(t) {
		if err := l.reapENI(ctx, c, e.subnet, e.eni); err != nil {
			return err
		}
	}
	return nil
}

// stoppedTaskENIs returns which of enis (task ENIs) belong to tasks moto
// shows STOPPED now, reading the tasks afresh.
func (l *Layer) stoppedTaskENIs(ctx context.Context, c caller, enis []string) (map[string]bool, error) {
	byCluster := map[string][]string{}
	seen := map[string]bool{}
	for _, eni := range enis {
		t, err := l.taskOfENI(ctx, c, eni)
		if err != nil {
			return nil, err
		}
		if t == nil || seen[t.TaskArn] {
			continue
		}
		seen[t.TaskArn] = true
		byCluster[t.ClusterArn] = append(byCluster[t.ClusterArn], t.TaskArn)
	}
	stopped := map[string]bool{}
	for cl, arns := range byCluster {
		for i := 0; i < len(arns); i += 100 {
			out, err := l.look.ecs(ctx, c, "DescribeTasks", map[string]any{"cluster": cl, "tasks": arns[i:min(i+100, len(arns))]})
			if err != nil {
				return nil, err
			}
			for _, t := range objs(out, "tasks") {
				if str(t, "lastStatus") == "STOPPED" {
					for _, e := range taskENIs(t) {
						stopped[e.eni] = true
					}
				}
			}
		}
	}
	return stopped, nil
}

// reapNATGateway deletes, in moto, the ENIs of a NAT gateway moto has
// deleted (moto only marks the gateway deleted).
func (l *Layer) reapNATGateway(ctx context.Context, c caller, id string) error {
	if id == "" {
		return nil
	}
	out, err := l.look.ec2(c).DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{id}})
	if notFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("strict: NAT gateway %s: %w", id, err)
	}
	for _, g := range out.NatGateways {
		for _, a := range g.NatGatewayAddresses {
			if eni := aws.ToString(a.NetworkInterfaceId); eni != "" {
				if err := l.reapENI(ctx, c, aws.ToString(g.SubnetId), eni); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
