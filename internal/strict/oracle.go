package strict

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/irflow/irflow/internal/flowmodel"
)

// AgentOracle decides whether the ECS container agent on an EC2 instance can
// reach Amazon ECS. On EC2, ECS delivers StopTask (and draining) to a task
// through that agent; while the agent is cut off, ECS accepts the call and
// the task keeps running. reason says why, in one sentence; err means the
// oracle cannot tell (the layer then behaves as moto does and records it).
type AgentOracle interface {
	Reachable(ctx context.Context, instanceID string) (reachable bool, reason string, err error)
}

// AgentFlows are the network flows of one container instance's ECS agent,
// registered by the harness with the world: the connections the agent holds
// open to the ECS endpoints (Established, from the instance's ENI to the
// endpoint's address on 443), and optionally the connection it would open
// to reconnect (NewConnection).
type AgentFlows struct {
	InstanceID    string           `json:"instanceId"`
	Established   []flowmodel.Flow `json:"established"`
	NewConnection *flowmodel.Flow  `json:"newConnection,omitempty"`
}

// FlowOracle is the AgentOracle of the flow model: an agent reaches ECS
// while one of its established flows survives the replay, on the world's
// baseline network, of every EC2 change moto accepted through the layer
// since the world was registered, or while a new connection would be
// allowed on the network those changes leave. It follows flowmodel's
// documented rules: a security-group swap does not cut a tracked
// connection, the untracked swap (all-traffic group, then the containment
// group) does, a NAT-gateway path stays tracked, a network ACL deny cuts at
// once.
type FlowOracle struct {
	calls func(from int, c caller) ([]flowmodel.Call, int)

	mu       sync.Mutex
	baseline *flowmodel.Network
	who      caller
	from     int
	agents   map[string]AgentFlows
}

// set installs a world: its baseline network, who owns it (whose calls are
// replayed), the call-log index the baseline was taken at, and its agents.
func (o *FlowOracle) set(baseline *flowmodel.Network, who caller, from int, agents []AgentFlows) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.baseline, o.who, o.from = baseline, who, from
	o.agents = map[string]AgentFlows{}
	for _, a := range agents {
		o.agents[a.InstanceID] = a
	}
}

func (o *FlowOracle) reset() { o.set(nil, caller{}, 0, nil) }

// Reachable implements AgentOracle. An instance whose agent flows were
// never registered is taken as connected (moto's view), and says so.
func (o *FlowOracle) Reachable(_ context.Context, instanceID string) (bool, string, error) {
	o.mu.Lock()
	a, ok := o.agents[instanceID]
	baseline, who, from := o.baseline, o.who, o.from
	o.mu.Unlock()
	if !ok || baseline == nil {
		return true, "no agent flows registered for " + instanceID + ": taken as connected", nil
	}
	calls, _ := o.calls(from, who)
	changes, err := flowmodel.ChangesFromCalls(calls)
	if err != nil {
		return false, "", err
	}
	final, outcomes, err := flowmodel.Replay(baseline, a.Established, changes)
	if err != nil {
		return false, "", err
	}
	var cut []string
	for _, oc := range outcomes {
		if oc.After.Allowed {
			return true, fmt.Sprintf("established flow %s survives: %s", oc.Flow, oc.Residual), nil
		}
		cut = append(cut, fmt.Sprintf("%s: %s", oc.Flow, oc.After.Reason))
	}
	if a.NewConnection != nil {
		v, err := final.Evaluate(*a.NewConnection)
		if err != nil {
			return false, "", err
		}
		if v.Allowed {
			return true, fmt.Sprintf("a new connection %s is allowed: %s", a.NewConnection.Name, v.Reason), nil
		}
		cut = append(cut, fmt.Sprintf("new connection %s: %s", a.NewConnection.Name, v.Reason))
	}
	if len(cut) == 0 {
		return false, "no established flow and no new connection registered for " + instanceID, nil
	}
	return false, strings.Join(cut, "; "), nil
}
