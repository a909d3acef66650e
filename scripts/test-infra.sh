#!/usr/bin/env bash
# test-infra.sh: the infra part of `make test`, needing no AWS account, no
# Docker and no `make build`:
#   1. the CDK assertions and cdk-nag tests of infra/ (go test);
#   2. a synth through the local CDK CLI (scripts/synth.sh) with placeholder
#      bootstrap files as function code, into a temporary cloud assembly;
#   3. cfn-lint (pinned in requirements.txt, .venv) on every template;
#   4. checks of the template from the outside, against what the irflow CLI
#      says the catalog and the compiled playbooks are (the "done when" list
#      of the infra issue), including: no IAM Allow with a wildcard action
#      anywhere, and no aws:cdk:error anywhere in the cloud assembly.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
py=.venv/bin/python
[ -x .venv/bin/cfn-lint ] || { echo "test-infra.sh: .venv/bin/cfn-lint missing: run \`make py-deps\`" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== infra: go test"
(cd infra && go test -count=1 ./...)

echo "== infra: synth with placeholder function code"
go build -o "$tmp/irflow" ./cmd/irflow
"$tmp/irflow" actions --format json >"$tmp/actions.json"
"$tmp/irflow" compile workflows --out "$tmp/asl" >/dev/null
# approval-api and start-api are the Lambdas that are not catalog actions.
for name in $("$py" -c 'import json,sys; print(" ".join(a["name"] for a in json.load(open(sys.argv[1]))["actions"]))' "$tmp/actions.json") approval-api start-api; do
  mkdir -p "$tmp/assets/$name"
  printf '#!/bin/sh\n# placeholder for %s: make build writes the real binary\n' "$name" >"$tmp/assets/$name/bootstrap"
done
scripts/synth.sh "$tmp/cdk.out" -c assetDir="$tmp/assets"

echo "== infra: cfn-lint"
# W3005 (a DependsOn that a GetAtt already implies) is how CDK orders every
# function and state machine after its role; every other finding fails.
.venv/bin/cfn-lint --ignore-checks W3005 -- "$tmp"/cdk.out/*.template.json
echo "cfn-lint: $(ls "$tmp"/cdk.out/*.template.json | wc -l) template(s) clean"

echo "== infra: template checks"
"$py" - "$tmp/cdk.out" "$tmp/actions.json" "$tmp/asl" workflows <<'PY'
import glob, json, os, sys
import yaml

out, actions_file, asl_dir, playbook_dir = sys.argv[1:5]
failures = []
def fail(msg):
    failures.append(msg)

resources = {}
for t in sorted(glob.glob(os.path.join(out, "*.template.json"))):
    resources.update(json.load(open(t))["Resources"])
def of_type(typ):
    return {k: v for k, v in resources.items() if v["Type"] == typ}
def ref(v):
    if isinstance(v, dict):
        if "Ref" in v:
            return v["Ref"]
        if "Fn::GetAtt" in v:
            return v["Fn::GetAtt"][0]
    return None
def as_list(v):
    return v if isinstance(v, list) else [] if v is None else [v]

actions = [a["name"] for a in json.load(open(actions_file))["actions"]]
compiled = {os.path.basename(f)[: -len(".asl.json")]: json.load(open(f))
            for f in glob.glob(os.path.join(asl_dir, "*.asl.json"))}
triggers = {}
for f in glob.glob(os.path.join(playbook_dir, "*.y*ml")):
    doc = yaml.safe_load(open(f))
    gd = (doc.get("triggers") or {}).get("guardduty") or {}
    if gd.get("findingTypes"):
        triggers[doc["metadata"]["name"]] = (gd["findingTypes"], gd.get("minSeverity", 4), gd.get("hostFindings") is True)

# A state machine per playbook, and the release state machine
# (irflow-release, generated from the catalog): STANDARD, logging ALL with
# data, tracing, the compiled definition.
machines = of_type("AWS::StepFunctions::StateMachine")
by_name = {m["Properties"].get("StateMachineName"): (k, m) for k, m in machines.items()}
if len(machines) != len(compiled) + 1:
    fail(f"{len(machines)} state machines for {len(compiled)} playbooks and the release machine")
rk, rm = by_name.get("irflow-release", (None, None))
if rm is None:
    fail("no state machine irflow-release")
else:
    rp = rm["Properties"]
    rlog = rp.get("LoggingConfiguration", {})
    if rp.get("StateMachineType") != "STANDARD" or rlog.get("Level") != "ALL" or rp.get("TracingConfiguration", {}).get("Enabled") is not True:
        fail(f"irflow-release: type {rp.get('StateMachineType')}, logging {rlog}, tracing {rp.get('TracingConfiguration')}")
sm_of = {}
for name, asl in sorted(compiled.items()):
    k, m = by_name.get("irflow-" + name, (None, None))
    if m is None:
        fail(f"no state machine irflow-{name}")
        continue
    sm_of[name] = k
    p = m["Properties"]
    log = p.get("LoggingConfiguration", {})
    if p.get("StateMachineType") != "STANDARD" or log.get("Level") != "ALL" or log.get("IncludeExecutionData") is not True:
        fail(f"irflow-{name}: type {p.get('StateMachineType')}, logging {log}")
    if p.get("TracingConfiguration", {}).get("Enabled") is not True:
        fail(f"irflow-{name}: tracing off")
    if json.loads(p.get("DefinitionString", "null")) != asl:
        fail(f"irflow-{name}: definition differs from `irflow compile`")

# A provided.al2023 arm64 function per catalog action (and the approval
# API), each with its own role.
functions = of_type("AWS::Lambda::Function")
tagged, roles = {}, {}
for k, f in functions.items():
    p = f["Properties"]
    tags = {t["Key"]: t["Value"] for t in p.get("Tags", [])}
    name = tags.get("irflow:function")
    tagged[name] = k
    if p.get("Runtime") != "provided.al2023" or p.get("Architectures") != ["arm64"]:
        fail(f"function {name}: {p.get('Runtime')} {p.get('Architectures')}")
    role = ref(p.get("Role"))
    if resources.get(role, {}).get("Type") != "AWS::IAM::Role":
        fail(f"function {name}: role {p.get('Role')} is not a role of the stack")
    if role in roles:
        fail(f"functions {roles[role]} and {name} share role {role}")
    roles[role] = name
if sorted(n or "" for n in tagged) != sorted(actions + ["approval-api", "start-api"]):
    fail(f"functions {sorted(n or '?' for n in tagged)}; want {sorted(actions + ['approval-api', 'start-api'])}")

# GuardDuty rules: the playbook's types and minimum severity, ECS tasks
# only (and container instances for a playbook that takes host findings),
# targets with a retry policy and an encrypted dead-letter queue.
rules = {k: r for k, r in of_type("AWS::Events::Rule").items()
         if "aws.guardduty" in r["Properties"].get("EventPattern", {}).get("source", [])}
targeted = {}
for k, r in rules.items():
    pat = r["Properties"]["EventPattern"]
    d = pat.get("detail", {})
    if pat.get("detail-type") != ["GuardDuty Finding"] or d.get("resource", {}).get("resourceType") not in (["ECSCluster"], ["ECSCluster", "Instance"]):
        fail(f"rule {k}: pattern {pat}")
    for t in r["Properties"].get("Targets", []):
        dlq = ref(t.get("DeadLetterConfig", {}).get("Arn"))
        if resources.get(dlq, {}).get("Type") != "AWS::SQS::Queue" or "KmsMasterKeyId" not in resources[dlq]["Properties"]:
            fail(f"rule {k}: target {t.get('Id')} has no KMS-encrypted SQS dead-letter queue")
        if not t.get("RetryPolicy"):
            fail(f"rule {k}: target {t.get('Id')} has no retry policy")
        targeted[ref(t.get("Arn"))] = (k, d)
for name, (types, minsev, hosts) in sorted(triggers.items()):
    k, d = targeted.get(sm_of.get(name), (None, None))
    if k is None:
        fail(f"playbook {name} has finding types but no GuardDuty rule targets irflow-{name}")
        continue
    want_rt = ["ECSCluster", "Instance"] if hosts else ["ECSCluster"]
    if d.get("resource", {}).get("resourceType") != want_rt:
        fail(f"rule {k}: detail.resource.resourceType {d.get('resource', {}).get('resourceType')}; want {want_rt} (hostFindings {hosts})")
    want = [{"prefix": t[:-1]} if t.endswith("*") else t for t in types]
    if d.get("type") != want:
        fail(f"rule {k}: detail.type {d.get('type')}; want {want}")
    if d.get("severity") != [{"numeric": [">=", minsev]}]:
        fail(f"rule {k}: severity {d.get('severity')}; want >= {minsev}")
if len(rules) != len(triggers):
    fail(f"{len(rules)} GuardDuty rules for {len(triggers)} playbooks with finding types")

# The evidence bucket: Object Lock with a default retention, versioning, SSE-KMS.
locked = [k for k, b in of_type("AWS::S3::Bucket").items()
          if b["Properties"].get("ObjectLockEnabled") is True
          and b["Properties"].get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"
          and b["Properties"]["ObjectLockConfiguration"].get("Rule", {}).get("DefaultRetention")
          and b["Properties"].get("VersioningConfiguration", {}).get("Status") == "Enabled"
          and any(c.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") == "aws:kms"
                  for c in b["Properties"].get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", []))]
if len(locked) != 1:
    fail(f"evidence buckets with Object Lock, default retention, versioning and SSE-KMS: {locked}")

# Tables with point-in-time recovery; a KMS-encrypted topic.
tables = of_type("AWS::DynamoDB::Table")
if len(tables) != 3:
    fail(f"{len(tables)} tables; want audit, approvals, incidents")
for k, t in tables.items():
    if t["Properties"].get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is not True:
        fail(f"table {k} without point-in-time recovery")
topics = of_type("AWS::SNS::Topic")
if not topics or any("KmsMasterKeyId" not in t["Properties"] for t in topics.values()):
    fail(f"topics without KMS: {[k for k, t in topics.items() if 'KmsMasterKeyId' not in t['Properties']]}")

# No IAM Allow statement with a wildcard action, in any policy of any kind.
allows = 0
def walk(where, v):
    global allows
    if isinstance(v, dict):
        for key, x in v.items():
            if key == "Statement":
                for st in as_list(x):
                    if isinstance(st, dict) and st.get("Effect") == "Allow":
                        allows += 1
                        if "NotAction" in st:
                            fail(f"{where}: Allow with NotAction")
                        for a in as_list(st.get("Action")):
                            if not isinstance(a, str) or "*" in a:
                                fail(f"{where}: Allow {a}")
            else:
                walk(where, x)
    elif isinstance(v, list):
        for x in v:
            walk(where, x)
for k, r in resources.items():
    walk(k, r.get("Properties", {}))
    if r["Type"] == "AWS::Lambda::Permission" and "*" in str(r["Properties"].get("Action")):
        fail(f"{k}: permission {r['Properties'].get('Action')}")
if allows < 50:
    fail(f"only {allows} Allow statements found: the walk is broken")

# No aws:cdk:error (cdk-nag or construct error) anywhere in the assembly.
for root, _, files in os.walk(out):
    for f in files:
        with open(os.path.join(root, f), "rb") as fh:
            if b"aws:cdk:error" in fh.read():
                fail(f"aws:cdk:error in {os.path.join(root, f)}")

for f in failures:
    print("FAIL", f, file=sys.stderr)
if failures:
    sys.exit(1)
print(f"template checks: {len(machines)} state machines, {len(functions)} functions with their own roles, "
      f"{len(rules)} GuardDuty rules with dead-letter queues, Object Lock evidence bucket, {len(tables)} tables "
      f"with PITR, KMS topic, {allows} Allow statements without wildcard actions, no aws:cdk:error")
PY
