package ecsref

import (
	"strconv"
	"strings"
)

// TaskDefinition is the family and revision a task definition ARN (or a
// family:revision reference) names.
type TaskDefinition struct {
	Family   string
	Revision int
}

// ParseTaskDefinition reads "arn:PARTITION:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION"
// or "FAMILY:REVISION". The family is what ListTaskDefinitions'
// familyPrefix and a task's group "family:NAME" use.
func ParseTaskDefinition(ref string) (TaskDefinition, bool) {
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		i := strings.Index(ref, ":task-definition/")
		if i < 0 {
			return TaskDefinition{}, false
		}
		name = ref[i+len(":task-definition/"):]
	}
	j := strings.LastIndexByte(name, ':')
	if j <= 0 {
		return TaskDefinition{}, false
	}
	rev, err := strconv.Atoi(name[j+1:])
	if err != nil || rev < 1 {
		return TaskDefinition{}, false
	}
	return TaskDefinition{Family: name[:j], Revision: rev}, true
}

// FamilyOf returns the family of a task definition ARN, or "".
func FamilyOf(ref string) string {
	td, _ := ParseTaskDefinition(ref)
	return td.Family
}
