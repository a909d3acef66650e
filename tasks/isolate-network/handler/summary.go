package handler

import (
	"fmt"
	"strings"
)

// maxListed bounds the ENIs and ACLs a summary names; the outputs list all.
const maxListed = 4

// summary is the result's one line: the isolation level, what was (or
// would be) done to which ENI, the network ACL entries, what the
// quarantine still allows, and the residual flow classes.
func summary(pl *plan, dry bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s isolation of %s: ", level(pl), what(pl))
	var parts []string
	if n, added, acls := naclCounts(pl); n > 0 {
		verb := "denied"
		switch {
		case dry && added > 0:
			verb = "deny"
		case added == 0:
			verb = "already denied"
		}
		parts = append(parts, fmt.Sprintf("%s the task's addresses in %d network ACL(s) (%s; %d new entries ahead of each ACL's allow rules)",
			verb, len(acls), list(acls), added))
	}
	var moves []string
	changed := 0
	for _, ep := range pl.enis {
		if ep.Treatment != treatGroups {
			continue
		}
		if ep.Changed {
			changed++
		}
		prev := strings.Join(ep.Previous, ",")
		if prev == "" {
			prev = "(previous groups not recorded)"
		}
		moves = append(moves, fmt.Sprintf("%s %s -> %s", ep.ID, prev, strings.Join(ep.Groups, ",")))
	}
	if len(moves) > 0 {
		verb := map[bool]string{true: "move", false: "moved"}[dry]
		if changed == 0 {
			verb = "already on the quarantine group"
		}
		parts = append(parts, fmt.Sprintf("%s (through an all-traffic group, so established flows become untracked) %s", verb, list(moves)))
	}
	for _, ep := range pl.enis {
		if ep.Treatment == untouchedECS || ep.Treatment == untouchedTrunk {
			parts = append(parts, fmt.Sprintf("left %s alone (%s)", ep.ID, ep.Treatment))
		}
	}
	b.WriteString(strings.Join(parts, "; "))
	for _, gp := range append(append([]*groupPlan{}, pl.groups...), pl.transit...) {
		if gp.Created {
			fmt.Fprintf(&b, "; %s group %s in %s", map[bool]string{true: "new", false: "created"}[dry], gp.GroupName, gp.VpcID)
		}
		if len(gp.Tightened) > 0 {
			fmt.Fprintf(&b, "; %s %d stray rule(s) of %s", map[bool]string{true: "would revoke", false: "revoked"}[dry], len(gp.Tightened), gp.GroupName)
		}
	}
	if len(pl.groups) > 0 {
		b.WriteString("; quarantine allows " + allows(pl))
		b.WriteString("; this cuts off every task on the instance")
	}
	for _, f := range pl.ssmFallback {
		fmt.Fprintf(&b, "; allowSsm fell back to deny-all in %s (no %s endpoint)", f.VpcID, strings.Join(f.Missing, ", "))
	}
	for _, ep := range pl.enis {
		if ep.write && !ep.Recorded {
			b.WriteString("; previous groups not tagged on the ENI (ec2:CreateTags denied): they are in this result and the ledger only")
			break
		}
	}
	var classes []string
	for _, r := range pl.residuals {
		classes = append(classes, r.FlowClass)
	}
	if len(classes) > 0 {
		b.WriteString("; still open: " + strings.Join(classes, ", "))
	}
	return b.String()
}

func naclCounts(pl *plan) (n, added int, acls []string) {
	seen := map[string]bool{}
	for _, e := range pl.nacl {
		n++
		if !e.Existing {
			added++
		}
		if !seen[e.NetworkAclID] {
			seen[e.NetworkAclID] = true
			acls = append(acls, e.NetworkAclID)
		}
	}
	return n, added, acls
}

func list(items []string) string {
	if len(items) > maxListed {
		return strings.Join(items[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(items)-maxListed)
	}
	return strings.Join(items, ", ")
}

func what(pl *plan) string {
	n := len(pl.enis)
	if pl.scope == scopeInstance {
		return fmt.Sprintf("instance %s (%s network mode, %d ENI%s)", pl.instanceID, pl.mode, n, plural(n))
	}
	return fmt.Sprintf("task (awsvpc, %d ENI%s)", n, plural(n))
}

func allows(pl *plan) string {
	var out []string
	if len(pl.ecsEndpoints) > 0 {
		out = append(out, "HTTPS to the ECS endpoints")
	}
	if pl.allowSsm && len(pl.ssmFallback) == 0 {
		s := "HTTPS to the ssm, ssmmessages and ec2messages endpoints"
		for _, gp := range pl.groups {
			if gp.S3 == "" {
				s += " (no S3 endpoint in " + gp.VpcID + ": uploads from the host will fail)"
			}
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return "no traffic in or out"
	}
	return "only " + strings.Join(out, " and ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
