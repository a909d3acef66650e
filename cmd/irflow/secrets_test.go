package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestApproveNeverPrintsSecrets: whatever the approval API answers, and
// when it does not answer at all, `irflow approve` prints neither the
// caller's secret access key nor its session token, which it signs the
// request with (the session token travels in a header, the secret never).
func TestApproveNeverPrintsSecrets(t *testing.T) {
	const secret, session = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY-SECRET-KEY", "IQoJb3JpZ2luX2VjE-SESSION-TOKEN-must-not-be-printed"
	env := func(t *testing.T) {
		opsAWSEnv(t)
		t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
		t.Setenv("AWS_SESSION_TOKEN", session)
	}
	answers := []struct {
		name   string
		status int
		body   string
	}{
		{"approved", 200, decided("approve", "APPROVED")},
		{"refused", 409, `{"error":"already-decided","message":"approval was already approved"}`},
		{"forbidden", 403, `{"Message":"The security token included in the request is invalid."}`},
		{"html error page", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>"},
		{"not JSON", 200, "{"},
	}
	for _, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			env(t)
			api := newApprovalAPI(t, a.status, a.body)
			_, out, errOut := runCLI("approve", approveID, "--reason", "miner confirmed", "--endpoint", api.srv.URL+"/")
			if len(api.got) != 1 {
				t.Fatalf("%d requests", len(api.got))
			}
			if h := api.got[0].Header.Get("X-Amz-Security-Token"); h != session {
				t.Errorf("the session token was not sent (got %q): the test proves nothing", h)
			}
			for _, s := range []string{secret, session} {
				if strings.Contains(out+errOut, s) {
					t.Errorf("printed a secret:\nstdout: %s\nstderr: %s", out, errOut)
				}
			}
		})
	}
	t.Run("no server", func(t *testing.T) {
		env(t)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		url := "http://" + l.Addr().String() + "/"
		l.Close()
		code, out, errOut := runCLI("approve", approveID, "--reason", "r", "--endpoint", url)
		if code == exitOK || strings.Contains(out+errOut, secret) || strings.Contains(out+errOut, session) {
			t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
	})
	t.Run("a server that echoes the request", func(t *testing.T) {
		env(t)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_ = r.Header.Write(w) // a misconfigured proxy's error page
		}))
		defer srv.Close()
		_, out, errOut := runCLI("approve", approveID, "--reason", "r", "--endpoint", srv.URL+"/")
		if strings.Contains(out+errOut, secret) {
			t.Errorf("printed the secret key:\n%s%s", out, errOut)
		}
		if strings.Contains(out+errOut, session) {
			t.Errorf("printed the session token of an echoed request:\n%s%s", out, errOut)
		}
		if !strings.Contains(out+errOut, "[redacted]") {
			t.Errorf("the echoed headers were not shown redacted (the test proves nothing):\n%s%s", out, errOut)
		}
	})
}
