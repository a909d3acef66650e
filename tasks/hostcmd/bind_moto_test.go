package hostcmd_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// put uploads body to a presigned URL as the host scripts do (curl with
// Content-MD5, which the Object Lock bucket requires).
func put(t *testing.T, url string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	sum := md5.Sum(body)
	req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
}

// TestBindAgainstMoto: a host uploads through real presigned URLs into the
// Object Lock bucket; the check binds an honest upload to its version, and
// refuses a host that uploads other bytes than it reports. A PUT after
// the check makes a new version: the recorded one is unchanged.
func TestBindAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	ctx := context.Background()
	ps := s3.NewPresignClient(taskrt.NewS3(w.Cfg))
	keys := []string{"cases/case-b/host/a.txt", "cases/case-b/host/b.bin"}
	uploads, err := hostcmd.Presign(ctx, ps, w.Env.EvidenceBucket, []string{"a.txt", "b.bin"}, keys, hostcmd.URLExpiry(20*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	a, b := []byte("docker inspect\n"), []byte(strings.Repeat("pcap", 4096))
	put(t, uploads[0].URL, a)
	put(t, uploads[1].URL, bytes.ToUpper(b)) // the host reports b, uploads other bytes
	r := &hostcmd.Runner{Objects: taskrt.NewS3(w.Cfg)}
	_, _, err = r.Bind(ctx, w.Env.EvidenceBucket, reported(a, b), keys, nil)
	var me *hostcmd.MismatchError
	if !errors.As(err, &me) || me.Key != keys[1] {
		t.Fatalf("a lying host: %v; want a mismatch on %s", err, keys[1])
	}

	put(t, uploads[1].URL, b) // honest this time: a new version
	ev, _, err := r.Bind(ctx, w.Env.EvidenceBucket, reported(a, b), keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 2 || ev[1].SHA256 != hexSHA(b) || ev[1].VersionID == "" || ev[0].VersionID == "" {
		t.Fatalf("evidence %+v", ev)
	}
	put(t, uploads[1].URL, bytes.ToUpper(b)) // re-PUT while the URL lives
	again, _, err := r.Bind(ctx, w.Env.EvidenceBucket, reported(a, b), keys, []hostcmd.Binding{
		{Name: "a.txt", Key: keys[0], VersionID: ev[0].VersionID, Bytes: int64(len(a)), Hashed: int64(len(a)), SHA256: ev[0].SHA256},
		{Name: "b.bin", Key: keys[1], VersionID: ev[1].VersionID, Bytes: int64(len(b))}})
	if err != nil || again[1].VersionID != ev[1].VersionID || again[1].SHA256 != hexSHA(b) {
		t.Errorf("the pinned version changed after a re-PUT: %+v, %v", again, err)
	}
}
