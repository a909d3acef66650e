package strict

import (
	"net/http"
	"sort"
	"strings"

	"github.com/irflow/irflow/internal/awsproxy"
)

// listTasksOnInstance answers ListTasks with a containerInstance the way
// ECS does: the tasks placed on that container instance
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html,
// containerInstance). moto 5.2.5 fails the call with HTTP 500 whenever the
// cluster also has a task without a container instance (a Fargate task:
// `containerInstance in None`), so the layer lists the cluster's tasks
// with the same desiredStatus, describes them and keeps those on the
// instance. One page: moto does not paginate ListTasks either.
func (l *Layer) listTasksOnInstance(w http.ResponseWriter, r *http.Request, in map[string]any, svc awsproxy.Service) {
	ctx, c := r.Context(), callerOf(svc)
	ci, _ := in["containerInstance"].(string)
	cluster, _ := in["cluster"].(string)
	fail := func(err error) {
		if api, ok := err.(*apiError); ok {
			awsproxy.WriteError(w, r, svc, api.answer)
			return
		}
		awsproxy.WriteError(w, r, svc, awsproxy.Error{Status: http.StatusInternalServerError, Code: "ServerException", Message: err.Error()})
	}
	list := map[string]any{"cluster": cluster}
	if s, ok := in["desiredStatus"].(string); ok {
		list["desiredStatus"] = s
	}
	out, err := l.look.ecs(ctx, c, "ListTasks", list)
	if err != nil {
		fail(err)
		return
	}
	var arns []string
	l2, _ := out["taskArns"].([]any)
	for _, a := range l2 {
		if s, ok := a.(string); ok {
			arns = append(arns, s)
		}
	}
	on := []string{}
	for i := 0; i < len(arns); i += 100 { // DescribeTasks takes at most 100
		d, err := l.look.ecs(ctx, c, "DescribeTasks", map[string]any{"cluster": cluster, "tasks": arns[i:min(i+100, len(arns))]})
		if err != nil {
			fail(err)
			return
		}
		for _, task := range objs(d, "tasks") {
			if arn, _ := task["containerInstanceArn"].(string); arn != "" && (arn == ci || strings.HasSuffix(arn, "/"+ci)) {
				if a, ok := task["taskArn"].(string); ok {
					on = append(on, a)
				}
			}
		}
	}
	sort.Strings(on)
	writeJSON(w, http.StatusOK, map[string]any{"taskArns": on})
}
