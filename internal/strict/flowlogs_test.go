package strict

import (
	"net/url"
	"strings"
	"testing"
)

// TestFlowLogFolders: a destination with a folder goes to moto as its
// bucket, and DescribeFlowLogs shows the folder again for the flow logs
// created so; others are left as moto answers them.
func TestFlowLogFolders(t *testing.T) {
	tests := []struct {
		typ, dest, bucket string
		ok                bool
	}{
		{"s3", "arn:aws:s3:::evidence/cases/c1/flow-logs/", "arn:aws:s3:::evidence", true},
		{"s3", "arn:aws:s3:::evidence", "", false},
		{"cloud-watch-logs", "arn:aws:logs:us-east-1:123456789012:log-group:g/x", "", false},
	}
	for _, tt := range tests {
		got, ok := s3Folder(url.Values{"LogDestinationType": {tt.typ}, "LogDestination": {tt.dest}})
		if got != tt.bucket || ok != tt.ok {
			t.Errorf("s3Folder(%s %s) = %q, %v; want %q, %v", tt.typ, tt.dest, got, ok, tt.bucket, tt.ok)
		}
	}
	var d flowLogDests
	created := `<CreateFlowLogsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><flowLogIdSet><item>fl-1</item><item>fl-2</item></flowLogIdSet></CreateFlowLogsResponse>`
	if err := d.created([]byte(created), "arn:aws:s3:::evidence/cases/c1/flow-logs/"); err != nil {
		t.Fatal(err)
	}
	described := `<DescribeFlowLogsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><flowLogSet>` +
		`<item><flowLogId>fl-1</flowLogId><logDestination>arn:aws:s3:::evidence</logDestination></item>` +
		`<item><flowLogId>fl-9</flowLogId><logDestination>arn:aws:s3:::customer</logDestination></item>` +
		`</flowLogSet></DescribeFlowLogsResponse>`
	out, err := d.present([]byte(described))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.Contains(s, "<logDestination>arn:aws:s3:::evidence/cases/c1/flow-logs/</logDestination>") ||
		!strings.Contains(s, "<logDestination>arn:aws:s3:::customer</logDestination>") {
		t.Errorf("DescribeFlowLogs as shown:\n%s", s)
	}
}
