package handler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ecsref"
	"github.com/irflow/irflow/tasks/incident"
)

// The lists, by output key (outputs.siblings.<key>): a playbook's
// forEach iterates $.steps.<id>.outputs.siblings.sameImage.
const (
	listImage    = "sameImage"
	listFamily   = "sameFamily"
	listRole     = "sameRole"
	listInstance = "sameInstance"
	listUnknown  = "unknownDigest"
)

// siblingLists are the task ARNs of each list, sorted. Excluded are the
// tasks that would be in some list but carry a tag of the playbook's
// exclude: (with.excludeTaskTags): they are in no other list, so no
// forEach acts on them (it is not one of the catalog's task lists).
type siblingLists struct {
	SameImage     []string `json:"sameImage"`
	SameFamily    []string `json:"sameFamily"`
	SameRole      []string `json:"sameRole"`
	SameInstance  []string `json:"sameInstance"`
	UnknownDigest []string `json:"unknownDigest"`
	Excluded      []string `json:"excluded"`
}

func (l *siblingLists) each(f func(key string, arns *[]string)) {
	f(listImage, &l.SameImage)
	f(listFamily, &l.SameFamily)
	f(listRole, &l.SameRole)
	f(listInstance, &l.SameInstance)
	f(listUnknown, &l.UnknownDigest)
}

// counts are the lengths of the full lists and the scan's extent.
type counts struct {
	SameImage     int `json:"sameImage"`
	SameFamily    int `json:"sameFamily"`
	SameRole      int `json:"sameRole"`
	SameInstance  int `json:"sameInstance"`
	UnknownDigest int `json:"unknownDigest"`
	Excluded      int `json:"excluded"`
	Described     int `json:"described"`
	Clusters      int `json:"clusters"`
	// RoleUnknown are the tasks whose role was not learned: their task
	// definition was not described before the deadline margin.
	RoleUnknown int `json:"roleUnknown"`
}

// sibling is a running task that shares something with the target.
type sibling struct {
	TaskArn              string             `json:"taskArn"`
	ClusterArn           string             `json:"clusterArn"`
	TaskDefinitionArn    string             `json:"taskDefinitionArn"`
	Group                string             `json:"group"`
	LaunchType           string             `json:"launchType"`
	LastStatus           string             `json:"lastStatus"`
	ContainerInstanceArn string             `json:"containerInstanceArn,omitempty"`
	TaskRoleArn          string             `json:"taskRoleArn,omitempty"`
	Containers           []ecsref.Container `json:"containers"`
	Shares               []string           `json:"shares"`
	// ExcludedBy is the exclude: rule ("key=value", "key=*") of a task
	// left alone: it shares Shares but is listed only as excluded.
	ExcludedBy string `json:"excludedBy,omitempty"`
}

// found is the scan sorted into lists.
type found struct {
	lists       siblingLists
	siblings    []sibling
	roleUnknown int
	excludedBy  map[string]int // exclude: rule → tasks it left alone
}

// sortTasks puts every described task but the target in the lists it
// belongs to. A task is in sameImage when one of its containers runs a
// compromised digest, in unknownDigest when that can be neither shown nor
// ruled out (a digest unknown on its side or on the target's). A task
// that would be in a list but carries a tag of ex is in excluded only.
func sortTasks(target *incident.Target, bad *ecsref.Compromised, s *scan, ex incident.Exclusion) *found {
	set, complete := bad.Set(), bad.Complete()
	family := ecsref.FamilyOf(target.TaskDefinitionArn)
	f := &found{excludedBy: map[string]int{}}
	f.lists.each(func(_ string, arns *[]string) { *arns = []string{} })
	f.lists.Excluded = []string{}
	for _, t := range s.tasks {
		arn := aws.ToString(t.TaskArn)
		if arn == target.TaskArn {
			continue
		}
		sib := sibling{TaskArn: arn, ClusterArn: aws.ToString(t.ClusterArn), TaskDefinitionArn: aws.ToString(t.TaskDefinitionArn),
			Group: aws.ToString(t.Group), LaunchType: string(t.LaunchType), LastStatus: aws.ToString(t.LastStatus),
			ContainerInstanceArn: aws.ToString(t.ContainerInstanceArn), Containers: ecsref.TaskContainers(t),
			Shares: []string{}}
		role, known := s.taskRole(t)
		sib.TaskRoleArn = role
		if s.wantRoles && !known {
			f.roleUnknown++
		}
		shares := map[string]bool{
			listFamily:   family != "" && ecsref.FamilyOf(sib.TaskDefinitionArn) == family,
			listRole:     target.TaskRoleArn != "" && sib.TaskRoleArn == target.TaskRoleArn,
			listInstance: target.ContainerInstanceArn != "" && sib.ContainerInstanceArn == target.ContainerInstanceArn,
		}
		// A host target (a container instance) has no image of its own:
		// nothing to compare.
		if !s.host {
			switch ecsref.Compare(sib.Containers, set, complete) {
			case ecsref.Matches:
				shares[listImage] = true
			case ecsref.Undecided:
				shares[listUnknown] = true
			}
		}
		rule := ex.Match(tagMap(t.Tags))
		f.lists.each(func(key string, arns *[]string) {
			if shares[key] {
				if rule == "" {
					*arns = append(*arns, arn)
				}
				sib.Shares = append(sib.Shares, key)
			}
		})
		if len(sib.Shares) == 0 {
			continue
		}
		if rule != "" {
			sib.ExcludedBy = rule
			f.lists.Excluded = append(f.lists.Excluded, arn)
			f.excludedBy[rule]++
		}
		f.siblings = append(f.siblings, sib)
	}
	f.lists.each(func(_ string, arns *[]string) { sort.Strings(*arns) })
	sort.Strings(f.lists.Excluded)
	sort.Slice(f.siblings, func(i, j int) bool { return f.siblings[i].TaskArn < f.siblings[j].TaskArn })
	return f
}

// The evidence document (siblings.json). It carries no time of its own,
// so the same world described twice stores the same bytes.
type (
	siblingsDoc struct {
		Source   string       `json:"source"`
		Target   targetDoc    `json:"target"`
		Scope    scopeDoc     `json:"scope"`
		Lists    siblingLists `json:"siblings"`
		Tasks    []sibling    `json:"tasks"`
		Failures []string     `json:"failures"`
	}
	targetDoc struct {
		TaskArn              string             `json:"taskArn"`
		TaskDefinitionArn    string             `json:"taskDefinitionArn"`
		Family               string             `json:"family"`
		TaskRoleArn          string             `json:"taskRoleArn"`
		ContainerInstanceArn string             `json:"containerInstanceArn"`
		Containers           []ecsref.Container `json:"compromisedContainers"`
		ImageDigests         []string           `json:"imageDigests"`
		DigestsComplete      bool               `json:"imageDigestsComplete"`
	}
	scopeDoc struct {
		Clusters  []string `json:"clusters"`
		MaxTasks  int      `json:"maxTasks"`
		Described int      `json:"described"`
		Complete  bool     `json:"complete"`
		StoppedBy string   `json:"stoppedBy"`
		// RolesComplete: every described task's role is known (or the
		// target has none to compare); RoleUnknownDefinitions are the
		// task definitions the deadline margin left undescribed.
		RolesComplete          bool     `json:"rolesComplete"`
		RoleUnknown            int      `json:"roleUnknown"`
		RoleUnknownDefinitions []string `json:"roleUnknownDefinitions"`
	}
)

func (f *found) document(target *incident.Target, bad *ecsref.Compromised, s *scan) *siblingsDoc {
	d := &siblingsDoc{
		Source: "ecs:ListClusters, ecs:ListTasks (desiredStatus RUNNING), ecs:DescribeTasks, ecs:DescribeTaskDefinition",
		Target: targetDoc{TaskArn: target.TaskArn, TaskDefinitionArn: target.TaskDefinitionArn, Family: ecsref.FamilyOf(target.TaskDefinitionArn),
			TaskRoleArn: target.TaskRoleArn, ContainerInstanceArn: target.ContainerInstanceArn, Containers: bad.Containers,
			ImageDigests: bad.Digests, DigestsComplete: bad.Complete()},
		Scope: scopeDoc{Clusters: append([]string{}, s.clusters...), MaxTasks: s.maxTasks, Described: len(s.tasks),
			Complete: s.stoppedBy == "", StoppedBy: s.stoppedBy, RolesComplete: f.roleUnknown == 0, RoleUnknown: f.roleUnknown,
			RoleUnknownDefinitions: s.roles.missedDefinitions()},
		Lists: f.lists, Tasks: append([]sibling{}, f.siblings...), Failures: append([]string{}, s.failures...),
	}
	sort.Strings(d.Failures)
	return d
}

// result is the step's result: the lists capped at maxListed ARNs each,
// their full lengths, and whether anything was left out.
func (f *found) result(target *incident.Target, bad *ecsref.Compromised, s *scan, maxListed int) *contract.Result {
	capped, truncated := f.lists, false
	n := counts{Described: len(s.tasks), Clusters: len(s.clusters), RoleUnknown: f.roleUnknown}
	lengths := map[string]*int{listImage: &n.SameImage, listFamily: &n.SameFamily, listRole: &n.SameRole, listInstance: &n.SameInstance, listUnknown: &n.UnknownDigest}
	capped.each(func(key string, arns *[]string) {
		*lengths[key] = len(*arns)
		if len(*arns) > maxListed {
			*arns, truncated = (*arns)[:maxListed], true
		}
	})
	if n.Excluded = len(capped.Excluded); n.Excluded > maxListed {
		capped.Excluded, truncated = capped.Excluded[:maxListed], true
	}
	return contract.OK(f.summary(target, bad, s, n, truncated)).
		With("siblings", capped).With("imageDigests", bad.Digests).With("imageDigestsComplete", bad.Complete()).
		With("counts", n).With("truncated", truncated).With("complete", s.stoppedBy == "").With("stoppedBy", s.stoppedBy).With("rolesComplete", f.roleUnknown == 0)
}

func (f *found) summary(target *incident.Target, bad *ecsref.Compromised, s *scan, n counts, truncated bool) string {
	id := "task " + target.TaskArn[strings.LastIndexByte(target.TaskArn, '/')+1:]
	if s.host {
		id = "container instance " + target.InstanceID + " (a host finding: its tasks are sameInstance; no image, family or role to compare)"
	}
	msg := fmt.Sprintf("siblings of %s: %d share its image digest, %d its family, %d its task role, %d its container instance, %d of unknown digest; %d running task(s) described in %d cluster(s)",
		id, n.SameImage, n.SameFamily, n.SameRole, n.SameInstance, n.UnknownDigest, n.Described, n.Clusters)
	switch {
	case len(bad.Unknown) > 0:
		msg += fmt.Sprintf("; the image digest of container(s) %s of the target is unknown, so no task is ruled out by image", strings.Join(bad.Unknown, ", "))
	case !bad.Complete() && !s.host:
		msg += "; the target's containers are unknown, so no task is ruled out by image"
	}
	switch s.stoppedBy {
	case stopMaxTasks:
		msg += fmt.Sprintf("; incomplete: stopped at maxTasks (%d)", s.maxTasks)
	case stopMaxClusters:
		msg += fmt.Sprintf("; incomplete: stopped at %d clusters", maxClusters)
	case stopDeadline:
		msg += "; incomplete: stopped before the function's deadline"
	}
	msg += incident.LeftAlone(n.Excluded, f.excludedBy)
	if f.roleUnknown > 0 {
		msg += fmt.Sprintf("; the task role of %d task(s) is unknown (their task definition was not described before the deadline), so sameRole may miss them", f.roleUnknown)
	}
	if truncated {
		msg += "; lists capped in the outputs, whole in " + evidenceName
	}
	return msg
}

// tagMap is a task's tags by key.
func tagMap(tags []ecstypes.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
