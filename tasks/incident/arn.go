package incident

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/irflow/irflow/tasks/textmatch"
)

// TaskARN is a parsed ECS task ARN in the long format
// arn:PARTITION:ecs:REGION:ACCOUNT:task/CLUSTER/ID.
type TaskARN struct {
	Partition, Region, Account, Cluster, ID string
}

// ClusterArn returns the ARN of the task's cluster.
func (t TaskARN) ClusterArn() string {
	return fmt.Sprintf("arn:%s:ecs:%s:%s:cluster/%s", t.Partition, t.Region, t.Account, t.Cluster)
}

var (
	partitions = map[string]string{ // partition -> region prefix it requires ("" any other)
		"aws": "", "aws-cn": "cn-", "aws-us-gov": "us-gov-",
		"aws-iso": "us-iso-", "aws-iso-b": "us-isob-", "aws-iso-e": "eu-isoe-", "aws-iso-f": "us-isof-",
	}
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	clusterRE = textmatch.NewSpan(`[A-Za-z0-9_-]`, 1, 255)
	// taskIDRE: ECS task ids are 32 hex digits; the dashed UUID form is what
	// moto (the local emulator irflow is tested against) hands out.
	taskIDRE = regexp.MustCompile(`^([a-f0-9]{32}|[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})$`)
)

// ParseTaskARN checks every part of an ECS task ARN and says which part is
// wrong. Nothing from a task ARN reaches a shell or an API unchecked.
func ParseTaskARN(s string) (TaskARN, error) {
	if len(s) > 512 {
		return TaskARN{}, fmt.Errorf("is %d characters long; a task ARN has at most 512", len(s))
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return TaskARN{}, fmt.Errorf("%q is not an ARN (arn:PARTITION:ecs:REGION:ACCOUNT:task/CLUSTER/ID)", clip(s))
	}
	p := TaskARN{Partition: parts[1], Region: parts[3], Account: parts[4]}
	prefix, ok := partitions[p.Partition]
	if !ok {
		return TaskARN{}, fmt.Errorf("partition %q is not an AWS partition", clip(p.Partition))
	}
	if parts[2] != "ecs" {
		return TaskARN{}, fmt.Errorf("is an ARN of service %q, not an ECS task", clip(parts[2]))
	}
	if !regionRE.MatchString(p.Region) {
		return TaskARN{}, fmt.Errorf("region %q is not a region", clip(p.Region))
	}
	if prefix != "" && !strings.HasPrefix(p.Region, prefix) || prefix == "" && p.Partition != "aws" {
		return TaskARN{}, fmt.Errorf("region %q is not in partition %s", p.Region, p.Partition)
	}
	if p.Partition == "aws" {
		for _, other := range partitions {
			if other != "" && strings.HasPrefix(p.Region, other) {
				return TaskARN{}, fmt.Errorf("region %q is not in partition aws", p.Region)
			}
		}
	}
	if !accountRE.MatchString(p.Account) {
		return TaskARN{}, fmt.Errorf("account %q is not a 12-digit account id", clip(p.Account))
	}
	res := strings.Split(parts[5], "/")
	if res[0] != "task" {
		return TaskARN{}, fmt.Errorf("resource %q is not a task", clip(res[0]))
	}
	if len(res) != 3 {
		return TaskARN{}, fmt.Errorf("must be the long format task/CLUSTER/ID")
	}
	p.Cluster, p.ID = res[1], res[2]
	if !clusterRE.MatchString(p.Cluster) {
		return TaskARN{}, fmt.Errorf("cluster name %q has characters ECS does not allow", clip(p.Cluster))
	}
	if !taskIDRE.MatchString(p.ID) {
		return TaskARN{}, fmt.Errorf("task id %q is not 32 lower-case hex digits", clip(p.ID))
	}
	return p, nil
}

// clip keeps hostile values short and printable in messages.
func clip(s string) string {
	r := []rune(s)
	if len(r) > 64 {
		r = append(r[:64], '…')
	}
	out := make([]rune, 0, len(r))
	for _, c := range r {
		if c < 0x20 || c == 0x7f {
			c = '?'
		}
		out = append(out, c)
	}
	return string(out)
}
