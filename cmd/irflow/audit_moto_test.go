package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/irflow/irflow/tasks/audit"
)

// The operator commands' integration tests run against moto server. The
// task packages share tasks/internal/mototest, which Go's internal rule
// keeps from cmd/irflow, so this is a small harness of the same contract:
// IRFLOW_MOTO_ENDPOINT, else .venv/bin/moto_server on a free loopback port
// (killed with this process); without moto the tests skip, unless
// IRFLOW_REQUIRE_MOTO=1.
var opsMotoServer struct {
	once     sync.Once
	endpoint string
	err      error
	n        int
	mu       sync.Mutex
}

func opsMoto(t *testing.T) string {
	t.Helper()
	opsMotoServer.once.Do(func() {
		if ep := os.Getenv("IRFLOW_MOTO_ENDPOINT"); ep != "" {
			opsMotoServer.endpoint = ep
			return
		}
		opsMotoServer.endpoint, opsMotoServer.err = opsStartMoto()
	})
	if opsMotoServer.endpoint == "" {
		if os.Getenv("IRFLOW_REQUIRE_MOTO") == "1" {
			t.Fatalf("moto server required (IRFLOW_REQUIRE_MOTO=1): %v", opsMotoServer.err)
		}
		t.Skipf("no moto server (%v): run make py-deps or set IRFLOW_MOTO_ENDPOINT", opsMotoServer.err)
	}
	return opsMotoServer.endpoint
}

func opsStartMoto() (string, error) {
	bin := os.Getenv("IRFLOW_MOTO_SERVER")
	if bin == "" {
		bin = filepath.Join("..", "..", ".venv", "bin", "moto_server")
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("no moto server at %s", bin)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	ep := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(ep + "/moto-api/"); err == nil {
			resp.Body.Close()
			return ep, nil
		}
	}
	cmd.Process.Kill()
	return "", fmt.Errorf("moto server did not answer on %s", ep)
}

// opsUnique names a resource so tests sharing a server never collide.
func opsUnique(prefix string) string {
	opsMotoServer.mu.Lock()
	defer opsMotoServer.mu.Unlock()
	opsMotoServer.n++
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid()%100000, opsMotoServer.n)
}

// opsAWSEnv gives the CLI fake credentials through the standard chain and
// keeps the developer's own AWS configuration out of the test.
func opsAWSEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// opsMotoConfig is an SDK config for setting up and inspecting moto.
func opsMotoConfig(ep string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(ep),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "testing", "")}
}

func opsCreateTable(t *testing.T, cfg aws.Config, name, pk, sk string) {
	t.Helper()
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(pk), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(pk), KeyType: ddbtypes.KeyTypeHash}}}
	if sk != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(sk), AttributeType: ddbtypes.ScalarAttributeTypeN})
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(sk), KeyType: ddbtypes.KeyTypeRange})
	}
	if _, err := dynamodb.NewFromConfig(cfg).CreateTable(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// TestAuditVerifyMoto: writers appending to one case at once still leave
// one chain that `irflow audit --verify` accepts; after an edit or a
// deletion in DynamoDB it exits 1 naming the first record that breaks.
func TestAuditVerifyMoto(t *testing.T) {
	ep := opsMoto(t)
	opsAWSEnv(t)
	cfg := opsMotoConfig(ep)
	table := opsUnique("audit")
	opsCreateTable(t, cfg, table, "caseId", "seq")
	db := dynamodb.NewFromConfig(cfg)
	chain := &audit.Chain{DB: db, Table: table}
	caseID := opsUnique("case")
	const writers, each = 6, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, err := chain.Append(context.Background(), audit.Record{CaseID: caseID, Step: fmt.Sprintf("branch-%d", w),
					Action: "capture-task-metadata", Event: "result", Status: "OK", Summary: fmt.Sprintf("write %d of branch %d", i, w), Detail: "{}"})
				errs <- err
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	base := []string{"audit", caseID, "--table", table, "--endpoint-url", ep, "--region", "us-east-1"}
	code, out, errOut := runCLI(append(base, "--verify")...)
	if code != exitOK || !strings.Contains(out, fmt.Sprintf("Verified: %d records", writers*each)) || !strings.Contains(out, "#30") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCLI(append(base, "--verify", "--format", "json")...)
	var doc struct {
		Records      []audit.Record
		Verification audit.ChainStatus
	}
	if err := json.Unmarshal([]byte(out), &doc); code != exitOK || err != nil || len(doc.Records) != writers*each || !doc.Verification.Verified {
		t.Fatalf("json exit %d err %v\n%s", code, err, out)
	}

	key := func(seq int) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"caseId": &ddbtypes.AttributeValueMemberS{Value: caseID},
			"seq": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(seq)}}
	}
	if _, err := db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key(17),
		UpdateExpression:          aws.String("SET summary = :s"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": &ddbtypes.AttributeValueMemberS{Value: "nothing happened here"}}}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(append(base, "--verify")...)
	if code != exitError || !strings.Contains(errOut, "record 17: hash does not match its contents") || !strings.Contains(out, "NOT VERIFIED: record 17") {
		t.Errorf("after editing record 17: exit %d\n%s\n%s", code, out, errOut)
	}
	// Without --verify the timeline still prints and the command succeeds.
	if code, out, _ = runCLI(base...); code != exitOK || !strings.Contains(out, "nothing happened here") {
		t.Errorf("timeline: exit %d\n%s", code, out)
	}
	t.Logf("irflow audit (after the edit):\n%s", strings.Join(strings.SplitN(out, "\n", 5)[:4], "\n"))
	if _, err := db.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key(9)}); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut = runCLI(append(base, "--verify")...); code != exitError || !strings.Contains(errOut, "record 9: missing") {
		t.Errorf("after deleting record 9: exit %d\n%s", code, errOut)
	}
	if code, _, errOut = runCLI("audit", "no-such-case", "--table", table, "--endpoint-url", ep); code != exitError || !strings.Contains(errOut, "no audit records") {
		t.Errorf("unknown case: exit %d %s", code, errOut)
	}
}
