package triage

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// userHZ is the unit of /proc/<pid>/stat's start time. It is 100 on every
// Linux architecture ECS runs (x86_64, arm64), whatever CONFIG_HZ is
// (proc(5), "clock ticks (divide by sysconf(_SC_CLK_TCK))").
const userHZ = 100

// procStat holds the fields of /proc/<pid>/stat irflow uses.
type procStat struct {
	comm       string
	state      string
	ppid       int
	startTicks uint64
}

// parseStat reads /proc/<pid>/stat. The command name is in parentheses and
// may itself contain spaces and parentheses, so the fields start after the
// last ")" (proc(5)).
func parseStat(b []byte) (procStat, error) {
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("stat without a command name")
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("stat with %d fields", len(f))
	}
	ppid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[19], 10, 64) // field 22, starttime
	if err1 != nil || err2 != nil {
		return procStat{}, fmt.Errorf("stat fields: %v %v", err1, err2)
	}
	return procStat{comm: s[open+1 : end], state: f[0], ppid: ppid, startTicks: start}, nil
}

// parseStatus reads "Key:\tvalue" lines of /proc/<pid>/status.
func parseStatus(b []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// ids returns the real and effective ids of a status Uid or Gid line, -1
// when absent.
func ids(v string) (real, effective int) {
	f := strings.Fields(v)
	real, effective = -1, -1
	if len(f) >= 2 {
		if n, err := strconv.Atoi(f[0]); err == nil {
			real = n
		}
		if n, err := strconv.Atoi(f[1]); err == nil {
			effective = n
		}
	}
	return real, effective
}

// parseCmdline splits /proc/<pid>/cmdline at its NUL bytes.
func parseCmdline(b []byte) []string {
	b = bytes.TrimSuffix(b, []byte{0})
	if len(b) == 0 {
		return []string{}
	}
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

// bootTime reads btime, the boot time in seconds since the epoch, from
// /proc/stat.
func bootTime(b []byte) (int64, bool) {
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// socket is one row of /proc/net/{tcp,tcp6,udp,udp6,raw,raw6}.
type socket struct {
	local, remote netip.AddrPort
	state         string
	uid           int
	inode         uint64
}

// tcpStates names the st column (include/net/tcp_states.h).
var tcpStates = map[string]string{
	"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
	"06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN",
	"0B": "CLOSING", "0C": "NEW_SYN_RECV",
}

// parseNet reads a /proc/net socket table; rows it cannot read are counted.
func parseNet(b []byte) (rows []socket, bad int) {
	lines := strings.Split(string(b), "\n")
	for _, line := range lines[min(1, len(lines)):] { // the first line is the header
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 10 {
			bad++
			continue
		}
		local, err1 := parseAddr(f[1])
		remote, err2 := parseAddr(f[2])
		uid, err3 := strconv.Atoi(f[7])
		inode, err4 := strconv.ParseUint(f[9], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			bad++
			continue
		}
		state := tcpStates[strings.ToUpper(f[3])]
		if state == "" {
			state = f[3]
		}
		rows = append(rows, socket{local: local, remote: remote, state: state, uid: uid, inode: inode})
	}
	return rows, bad
}

// parseAddr reads "0100007F:1F90": the address as 32-bit words in host
// byte order (little-endian on x86_64 and arm64), the port big-endian.
func parseAddr(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("address %q", s)
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("address %q", s)
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port %q", s)
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

// parseFDs reads the collector's fd listing: "fd<TAB>target" records
// separated by NUL bytes.
func parseFDs(b []byte) map[int]string {
	m := map[int]string{}
	for _, rec := range bytes.Split(b, []byte{0}) {
		fd, target, ok := strings.Cut(string(rec), "\t")
		if n, err := strconv.Atoi(fd); ok && err == nil {
			m[n] = target
		}
	}
	return m
}

// socketInode returns the inode of a "socket:[12345]" fd target.
func socketInode(target string) (uint64, bool) {
	v, ok := strings.CutPrefix(target, "socket:[")
	if !ok || !strings.HasSuffix(v, "]") {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(v, "]"), 10, 64)
	return n, err == nil
}

// linkTarget reads a collector link block: readlink's output, or `ls -ld`'s
// when the image has no readlink ("... /proc/1/exe -> /usr/bin/app").
func linkTarget(b []byte, viaLS bool) string {
	s := strings.TrimSuffix(string(b), "\n")
	if viaLS {
		if _, t, ok := strings.Cut(s, " -> "); ok {
			return t
		}
		return ""
	}
	return s
}
