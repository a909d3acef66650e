package handler

import (
	"fmt"
	"strings"
)

// maxListed bounds the ENIs a summary names; the outputs list all of them.
const maxListed = 4

// summary is the result's one line: what was (or would be) isolated, from
// which groups to which, what the quarantine still allows, and anything a
// responder must know (every task on the instance is cut off; originals not
// tagged).
func summary(pl *plan, dry bool) string {
	changed := 0
	for _, ep := range pl.enis {
		if ep.Changed {
			changed++
		}
	}
	tightened := 0
	for _, gp := range pl.groups {
		tightened += len(gp.Tightened)
	}

	var b strings.Builder
	switch {
	case changed == 0 && dry:
		b.WriteString("do nothing: already isolated: ")
	case changed == 0:
		b.WriteString("already isolated: ")
	case !dry:
		b.WriteString("isolated ")
	default:
		b.WriteString("isolate ")
	}
	b.WriteString(what(pl))
	b.WriteString(": ")
	var moves []string
	for i, ep := range pl.enis {
		if i == maxListed {
			moves = append(moves, fmt.Sprintf("and %d more", len(pl.enis)-maxListed))
			break
		}
		prev := strings.Join(ep.Previous, ",")
		if prev == "" {
			prev = "(previous groups not recorded)"
		}
		moves = append(moves, fmt.Sprintf("%s %s -> %s", ep.ID, prev, strings.Join(ep.Groups, ",")))
	}
	b.WriteString(strings.Join(moves, "; "))

	for _, gp := range pl.groups {
		switch {
		case gp.Created && dry:
			fmt.Fprintf(&b, "; new quarantine group %s in %s", gp.GroupName, gp.VpcID)
		case gp.Created:
			fmt.Fprintf(&b, "; created quarantine group %s (%s) in %s", gp.GroupID, gp.GroupName, gp.VpcID)
		}
	}
	b.WriteString("; quarantine allows ")
	b.WriteString(allows(pl))
	if tightened > 0 {
		verb := "revoked"
		if dry {
			verb = "would revoke"
		}
		fmt.Fprintf(&b, "; %s %d stray rule(s) from the quarantine group", verb, tightened)
	}
	if pl.scope == scopeInstance {
		b.WriteString("; this cuts off every task on the instance")
	}
	for _, ep := range pl.enis {
		if ep.write && !ep.Recorded {
			b.WriteString("; previous groups not tagged on the ENI (ec2:CreateTags denied): they are in this result only")
			break
		}
	}
	return b.String()
}

func what(pl *plan) string {
	n := len(pl.enis)
	if pl.scope == scopeInstance {
		return fmt.Sprintf("instance %s (%s %s, %d ENI%s)", pl.instanceID, pl.mode, "network mode", n, plural(n))
	}
	return fmt.Sprintf("task (awsvpc, %d ENI%s)", n, plural(n))
}

func allows(pl *plan) string {
	if !pl.allowSsm {
		return "no traffic in or out"
	}
	s := "only HTTPS to the ssm, ssmmessages and ec2messages endpoints"
	for _, gp := range pl.groups {
		if gp.S3 == "" {
			return s + " (no S3 endpoint in " + gp.VpcID + ": uploads from the host will fail)"
		}
	}
	return s + " and S3"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
