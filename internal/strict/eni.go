package strict

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/internal/awsproxy"
)

// motoECSDescription is the description moto 5.2.5 gives every ENI it
// creates for an awsvpc task (ecs/models.py, Task.__init__): the mark that
// makes the requester-managed rule stateless, surviving a layer restart.
const motoECSDescription = "moto ECS"

// eniOps are the EC2 actions a requester-managed ENI refuses, with the
// parameter naming the ENI. Tags (CreateTags, DeleteTags) stay allowed:
// "You can add or remove tags, but you can't change other properties of a
// requester-managed network interface." (Requester-managed network
// interfaces). DetachNetworkInterface names an attachment: see eniOfAttachment.
var eniOps = map[string]string{
	"ModifyNetworkInterfaceAttribute": "NetworkInterfaceId",
	"DeleteNetworkInterface":          "NetworkInterfaceId",
	"AttachNetworkInterface":          "NetworkInterfaceId",
	"AssignPrivateIpAddresses":        "NetworkInterfaceId",
	"UnassignPrivateIpAddresses":      "NetworkInterfaceId",
	"AssignIpv6Addresses":             "NetworkInterfaceId",
	"UnassignIpv6Addresses":           "NetworkInterfaceId",
	"AssociateAddress":                "NetworkInterfaceId",
	"DetachNetworkInterface":          "AttachmentId",
}

// errRequesterManaged is what EC2 answers a change to an ENI another
// service manages. AWS documents the restriction but not the error; the code
// and message are the ones reported for ECS-created ENIs (ModifyNetworkInterfaceAttribute,
// cloud-custodian issue 3406: "AuthError ... on ENIs that were created and
// attached to an instance by an ECS cluster/service") and for EKS-managed
// ENIs (DetachNetworkInterface, aws/aws-k8s-tester issue 70: "AuthFailure:
// You do not have permission to access the specified resource"). AuthFailure
// is in the EC2 common client errors ("You might not be authorized to carry
// out the request", Error codes for the Amazon EC2 API —
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
var errRequesterManaged = awsproxy.Error{Status: http.StatusBadRequest, Code: "AuthFailure",
	Message: "You do not have permission to access the specified resource."}

// synthAttachment is the attachment ID the layer shows for an ECS-managed
// ENI moto left unattached: derived from the ENI ID, so DetachNetworkInterface
// can be traced back to the ENI without state.
func synthAttachment(eni string) string {
	sum := sha256.Sum256([]byte(eni))
	return "eni-attach-" + hex.EncodeToString(sum[:])[:17]
}

// managedKind says who manages eni: "ecs" for a task ENI, "trunk" or
// "branch" for ENI trunking, "nat", "vpce" or "elb" for a NAT gateway's,
// an interface endpoint's or a load balancer's ENI; "" for an ENI the
// account manages (or one moto does not know, which moto then refuses
// itself).
func (l *Layer) managedKind(ctx context.Context, c caller, eni string) (string, error) {
	if k := l.tasks.trunkKind(eni); k != "" {
		return k, nil
	}
	if l.tasks.task(eni) != nil {
		return "ecs", nil
	}
	out, err := l.look.ec2(c).DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eni}})
	if err != nil || len(out.NetworkInterfaces) == 0 {
		return "", nil
	}
	ni := out.NetworkInterfaces[0]
	if k := kindOf(ni); k != "" {
		return k, nil
	}
	svc, err := l.serviceENIs(ctx, c, []string{eni}, func(string) bool { return ni.Status == ec2types.NetworkInterfaceStatusInUse })
	if err != nil {
		return "", err
	}
	return svc[eni].Kind, nil
}

func kindOf(ni ec2types.NetworkInterface) string {
	switch {
	case aws.ToString(ni.Description) == motoECSDescription:
		return "ecs"
	case ni.InterfaceType == ec2types.NetworkInterfaceTypeTrunk:
		return "trunk"
	case ni.InterfaceType == ec2types.NetworkInterfaceTypeBranch:
		return "branch"
	case isELBDescription(aws.ToString(ni.Description)):
		return "elb"
	}
	return ""
}

// managedGone deletes, in moto, a managed ENI AWS would already have
// deleted (a STOPPED task's, a deleted NAT gateway's), and reports whether
// it did: the request then goes to moto, which answers for an ENI that does
// not exist.
func (l *Layer) managedGone(ctx context.Context, c caller, eni, kind string) (bool, error) {
	switch kind {
	case "ecs":
		stopped, err := l.stoppedTaskENIs(ctx, c, []string{eni})
		if err != nil || !stopped[eni] {
			return false, err
		}
	case "nat":
		svc, err := l.serviceENIs(ctx, c, []string{eni}, func(string) bool { return false })
		if err != nil || !svc[eni].Gone {
			return false, err
		}
	default:
		return false, nil
	}
	return true, l.reapENI(ctx, c, "", eni)
}

// eniOfAttachment returns the ENI an attachment ID names: one of the
// layer's synthetic attachments (of an ECS task ENI, eni-attach-..., or of
// a NAT gateway's, endpoint's or load balancer's ENI, ela-attach-...), or a
// real one.
func (l *Layer) eniOfAttachment(ctx context.Context, c caller, att string) (string, error) {
	var filters []ec2types.Filter
	synth := synthAttachment
	if strings.HasPrefix(att, "ela-attach-") {
		synth = elaAttachment // every ENI is a candidate: no filter
	} else {
		out, err := l.look.ec2(c).DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
			Filters: []ec2types.Filter{{Name: aws.String("attachment.attachment-id"), Values: []string{att}}}})
		if err == nil && len(out.NetworkInterfaces) > 0 {
			return aws.ToString(out.NetworkInterfaces[0].NetworkInterfaceId), nil
		}
		filters = []ec2types.Filter{{Name: aws.String("description"), Values: []string{motoECSDescription}}}
	}
	candidates, err := l.look.ec2(c).DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: filters})
	if err != nil {
		return "", err
	}
	for _, ni := range candidates.NetworkInterfaces {
		if id := aws.ToString(ni.NetworkInterfaceId); synth(id) == att {
			return id, nil
		}
	}
	return "", nil
}

// checkENI refuses a change to an ENI Amazon ECS manages, and a group set
// larger than the security-groups-per-ENI quota. It reports whether it
// answered.
func (l *Layer) checkENI(ctx context.Context, w http.ResponseWriter, r *http.Request, svc awsproxy.Service, form url.Values) bool {
	op, c := svc.Operation, callerOf(svc)
	if param, ok := eniOps[op]; ok && form.Get(param) != "" {
		eni := form.Get(param)
		if param == "AttachmentId" {
			found, err := l.eniOfAttachment(ctx, c, eni)
			if err != nil || found == "" {
				return false // moto answers for an attachment nobody has
			}
			eni = found
		}
		kind, err := l.managedKind(ctx, c, eni)
		if err != nil {
			awsproxy.WriteError(w, r, svc, awsproxy.Error{Status: http.StatusInternalServerError, Code: "InternalError",
				Message: "strict: who manages " + eni + ": " + err.Error()})
			return true
		}
		if kind != "" {
			gone, err := l.managedGone(ctx, c, eni, kind)
			if err != nil {
				awsproxy.WriteError(w, r, svc, awsproxy.Error{Status: http.StatusInternalServerError, Code: "InternalError",
					Message: "strict: deleting " + eni + ": " + err.Error()})
				return true
			}
			if gone {
				return false // moto answers for the ENI AWS deleted
			}
			l.refuse(w, r, svc, op, ruleRequesterManaged, errRequesterManaged, eni)
			return true
		}
	}
	groupParam := map[string]string{"ModifyNetworkInterfaceAttribute": "SecurityGroupId.", "CreateNetworkInterface": "SecurityGroupId.",
		"RunInstances": "SecurityGroupId.", "ModifyInstanceAttribute": "GroupId."}[op]
	if groupParam == "" {
		return false
	}
	n := 0
	for k := range form {
		if strings.HasPrefix(k, groupParam) {
			n++
		}
	}
	if n > l.cfg.GroupsPerENI {
		// "The maximum number of security groups per interface has been
		// reached." is the message EC2 returns (quoted in cloud-custodian
		// issue 9787); the code is in the EC2 error code list (Error codes
		// for the Amazon EC2 API —
		// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
		l.refuse(w, r, svc, op, ruleGroupsPerENI, awsproxy.Error{Status: http.StatusBadRequest, Code: "SecurityGroupsPerInterfaceLimitExceeded",
			Message: "The maximum number of security groups per interface has been reached."}, form.Get("NetworkInterfaceId")+form.Get("InstanceId"))
		return true
	}
	return false
}
