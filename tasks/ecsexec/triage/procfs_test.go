package triage

import (
	"testing"
)

func TestParseAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0100007F:0050", "127.0.0.1:80"},
		{"00000000:1F90", "0.0.0.0:8080"},
		{"00000000000000000000000001000000:0016", "[::1]:22"},
		{"0000000000000000FFFF00000100007F:01BB", "127.0.0.1:443"}, // v4-mapped
		{"B80D0120000000000000000001000000:0035", "[2001:db8::1]:53"},
	}
	for _, tt := range tests {
		got, err := parseAddr(tt.in)
		if err != nil || got.String() != tt.want {
			t.Errorf("parseAddr(%s) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "0100007F", "01007F:0050", "zz00007F:0050", "0100007F:zz", "0100007F:10000"} {
		if _, err := parseAddr(bad); err == nil {
			t.Errorf("parseAddr(%q) accepted", bad)
		}
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		in    string
		comm  string
		ppid  int
		start uint64
		ok    bool
	}{
		{"9 (a b) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 0", "a b", 1, 77, true},
		{"9 ()) (() R 2 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 78 0", ")) ((", 2, 78, true},
		{"9 (x) S 1", "", 0, 0, false},
		{"no parens at all", "", 0, 0, false},
	}
	for _, tt := range tests {
		st, err := parseStat([]byte(tt.in))
		if (err == nil) != tt.ok || (tt.ok && (st.comm != tt.comm || st.ppid != tt.ppid || st.startTicks != tt.start)) {
			t.Errorf("parseStat(%q) = %+v, %v", tt.in, st, err)
		}
	}
}

func TestLinkTargetAndFDs(t *testing.T) {
	if got := linkTarget([]byte("lrwxrwxrwx 1 0 0 0 Jan 1 00:00 /proc/1/exe -> /usr/bin/a -> b\n"), true); got != "/usr/bin/a -> b" {
		t.Errorf("ls fallback gave %q", got)
	}
	fds := parseFDs([]byte("0\t/dev/null\x003\tsocket:[12]\x00junk\x005\t/tmp/new\nline\x00"))
	if fds[0] != "/dev/null" || fds[3] != "socket:[12]" || fds[5] != "/tmp/new\nline" || len(fds) != 3 {
		t.Errorf("parseFDs = %v", fds)
	}
	if ino, ok := socketInode("socket:[12]"); !ok || ino != 12 {
		t.Errorf("socketInode")
	}
	if _, ok := socketInode("pipe:[12]"); ok {
		t.Errorf("pipe taken for a socket")
	}
}
