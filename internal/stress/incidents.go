package stress

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// findingTypes is a GuardDuty Runtime Monitoring finding type each shipped
// playbook triggers on (a test checks them against workflows/).
var findingTypes = map[string]string{
	"crypto-mining":       "Impact:Runtime/CryptoMinerExecuted",
	"reverse-shell-c2":    "Execution:Runtime/ReverseShell",
	"malicious-network":   "Trojan:Runtime/BlackholeTraffic",
	"credential-abuse":    "UnauthorizedAccess:Runtime/MetadataDNSRebind",
	"container-escape":    "PrivilegeEscalation:Runtime/ContainerMountsHostDirectory",
	"malicious-execution": "Execution:Runtime/NewBinaryExecuted",
	"suspicious-activity": "Execution:Runtime/SuspiciousTool",
}

// Playbooks are the playbooks the campaign's incidents run, crypto-mining
// first (the campaign) and most often.
var Playbooks = []string{
	"crypto-mining", "reverse-shell-c2", "crypto-mining", "malicious-network", "credential-abuse",
	"crypto-mining", "container-escape", "malicious-execution", "suspicious-activity",
}

// Incident is one execution of the stress run.
type Incident struct {
	N        int
	Playbook string
	Task     Task
	// Source is guardduty (an EventBridge finding, which names the launch
	// type) or manual (a console input: irflow simulate --launch-type).
	Source string
	CaseID string
	Input  []byte
}

// Incidents pairs every task with a playbook and an input: three in four
// are GuardDuty findings, the rest console requests with a case id. run
// makes the finding ids and case ids unique to the run, so a reused moto
// server never sees a case twice.
func Incidents(tasks []Task, account, run string) []Incident {
	out := make([]Incident, len(tasks))
	for i, t := range tasks {
		pb := Playbooks[i%len(Playbooks)]
		in := Incident{N: i, Playbook: pb, Task: t}
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%d", run, i)))
		if (i/2)%4 == 3 { // pairs, so both launch types get console inputs
			in.Source = "manual"
			in.CaseID = fmt.Sprintf("stress-%s-%03d", run, i)
			in.Input, _ = json.Marshal(map[string]any{
				"taskArn": t.Arn, "caseId": in.CaseID,
				"reason":      fmt.Sprintf("crypto-mining campaign: task %d of the wave, pool traffic in flow logs", i),
				"requestedBy": "arn:aws:iam::" + account + ":role/IncidentCommander",
			})
		} else {
			in.Source = "guardduty"
			id := hex.EncodeToString(sum[:16])
			in.CaseID = "gd-" + id
			in.Input = guardDutyEvent(t, account, id, findingTypes[pb])
		}
		out[i] = in
	}
	return out
}

// guardDutyEvent is the EventBridge event of a Runtime Monitoring finding
// about task t, shaped like examples/inputs/guardduty-fargate-cryptominer.json.
func guardDutyEvent(t Task, account, id, typ string) []byte {
	now := time.Now().UTC().Format(time.RFC3339)
	ev := map[string]any{
		"version": "0", "id": id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:32],
		"detail-type": "GuardDuty Finding", "source": "aws.guardduty", "account": account,
		"time": now, "region": "us-east-1", "resources": []any{},
		"detail": map[string]any{
			"schemaVersion": "2.0", "accountId": account, "region": "us-east-1", "partition": "aws",
			"id": id, "arn": "arn:aws:guardduty:us-east-1:" + account + ":detector/12abc34d567e8fa901bc2d34e56789f0/finding/" + id,
			"type": typ, "severity": 8, "title": typ + " in an ECS task", "description": "stress: " + typ,
			"createdAt": now, "updatedAt": now,
			"resource": map[string]any{
				"resourceType": "ECSCluster",
				"ecsClusterDetails": map[string]any{
					"arn": t.ClusterArn, "status": "ACTIVE",
					"taskDetails": map[string]any{"arn": t.Arn, "launchType": t.LaunchType},
				},
			},
			"service": map[string]any{
				"serviceName": "guardduty", "featureName": "RuntimeMonitoring",
				"runtimeDetails": map[string]any{"process": map[string]any{
					"name": "xmrig", "executablePath": "/tmp/.cache/xmrig", "pid": 4242,
					"executableSha256": "3d2e9c0b7a1f64e58d9c2b1a0f7e6d5c4b3a29180716f5e4d3c2b1a09f8e7d6c"}},
			},
		},
	}
	b, _ := json.Marshal(ev)
	return b
}
