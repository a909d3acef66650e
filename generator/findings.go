package generator

import "strings"

// runtimeFindingTypes are the GuardDuty Runtime Monitoring finding types that
// can name an ECS task (resource type ECSCluster, on Fargate or on an EC2
// container instance), sorted. Source: the GuardDuty user guide's "GuardDuty
// Runtime Monitoring finding types" page,
// https://docs.aws.amazon.com/guardduty/latest/ug/findings-runtime-monitoring.html,
// which describes each type as seen "on an Amazon EC2 instance or in a
// container" unless it says otherwise. Later additions on the same page:
// Execution:Runtime/MaliciousFileExecuted.Custom (SHA-256 hashes in a custom
// threat entity list, May 2026) and the three */SensitiveFileModified types
// (July 2026, "Amazon EC2 instances and container workloads running on Amazon
// EKS or Amazon ECS", https://aws.amazon.com/about-aws/whats-new/2026/07/amazon-guardduty-sfm/).
// Left out on purpose: DefenseEvasion:Runtime/KernelModuleLoaded, which the
// page describes on an EC2 instance only (resource type Instance, never an ECS
// task), and the Malware Protection types (Execution:ECS/MaliciousFile …),
// which come from EBS scans, not from Runtime Monitoring.
//
// A playbook trigger outside this list gets the unknown-finding-type warning:
// usually a typo, sometimes a type newer than this list.
var runtimeFindingTypes = []string{
	"Backdoor:Runtime/C&CActivity.B",
	"Backdoor:Runtime/C&CActivity.B!DNS",
	"CryptoCurrency:Runtime/BitcoinTool.B",
	"CryptoCurrency:Runtime/BitcoinTool.B!DNS",
	"DefenseEvasion:Runtime/FilelessExecution",
	"DefenseEvasion:Runtime/ProcessInjection.Proc",
	"DefenseEvasion:Runtime/ProcessInjection.Ptrace",
	"DefenseEvasion:Runtime/ProcessInjection.VirtualMemoryWrite",
	"DefenseEvasion:Runtime/PtraceAntiDebugging",
	"DefenseEvasion:Runtime/SensitiveFileModified",
	"DefenseEvasion:Runtime/SuspiciousCommand",
	"Discovery:Runtime/SuspiciousCommand",
	"Execution:Runtime/MaliciousFileExecuted",
	"Execution:Runtime/MaliciousFileExecuted.Custom",
	"Execution:Runtime/NewBinaryExecuted",
	"Execution:Runtime/NewLibraryLoaded",
	"Execution:Runtime/ReverseShell",
	"Execution:Runtime/SuspiciousCommand",
	"Execution:Runtime/SuspiciousShellCreated",
	"Execution:Runtime/SuspiciousTool",
	"Impact:Runtime/AbusedDomainRequest.Reputation",
	"Impact:Runtime/BitcoinDomainRequest.Reputation",
	"Impact:Runtime/CryptoMinerExecuted",
	"Impact:Runtime/MaliciousDomainRequest.Reputation",
	"Impact:Runtime/SuspiciousDomainRequest.Reputation",
	"Persistence:Runtime/SensitiveFileModified",
	"Persistence:Runtime/SuspiciousCommand",
	"PrivilegeEscalation:Runtime/CGroupsReleaseAgentModified",
	"PrivilegeEscalation:Runtime/ContainerMountsHostDirectory",
	"PrivilegeEscalation:Runtime/DockerSocketAccessed",
	"PrivilegeEscalation:Runtime/ElevationToRoot",
	"PrivilegeEscalation:Runtime/RuncContainerEscape",
	"PrivilegeEscalation:Runtime/SensitiveFileModified",
	"PrivilegeEscalation:Runtime/SuspiciousCommand",
	"PrivilegeEscalation:Runtime/UserfaultfdUsage",
	"Trojan:Runtime/BlackholeTraffic",
	"Trojan:Runtime/BlackholeTraffic!DNS",
	"Trojan:Runtime/DGADomainRequest.C!DNS",
	"Trojan:Runtime/DriveBySourceTraffic!DNS",
	"Trojan:Runtime/DropPoint",
	"Trojan:Runtime/DropPoint!DNS",
	"Trojan:Runtime/PhishingDomainRequest!DNS",
	"UnauthorizedAccess:Runtime/MetadataDNSRebind",
	"UnauthorizedAccess:Runtime/TorClient",
	"UnauthorizedAccess:Runtime/TorRelay",
}

// KnownFindingTypes returns the GuardDuty Runtime Monitoring finding types
// that apply to ECS, sorted.
func KnownFindingTypes() []string {
	out := make([]string, len(runtimeFindingTypes))
	copy(out, runtimeFindingTypes)
	return out
}

// MatchFindingTypes returns the known finding types a trigger pattern
// matches: itself when exact, every type with the prefix when it ends in *.
func MatchFindingTypes(pattern string) []string {
	prefix, wild := strings.CutSuffix(pattern, "*")
	var out []string
	for _, t := range runtimeFindingTypes {
		if (wild && strings.HasPrefix(t, prefix)) || (!wild && t == pattern) {
			out = append(out, t)
		}
	}
	return out
}
