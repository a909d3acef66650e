package strict

import (
	"net/url"
	"strings"
	"sync"
)

// flowLogDests serves what moto lacks for VPC flow logs delivered to a
// folder of a bucket. EC2 takes an S3 LogDestination of
// arn:aws:s3:::bucket/folder/ and writes under that folder ("You can also
// specify a subfolder for the flow log records":
// https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-create-flow-log.html);
// moto 5.2 reads everything after "arn:aws:s3:::" as the bucket's name and
// answers "LogDestination: bucket/folder/ does not exist". The layer sends
// moto the bucket alone, remembers the destination asked for by flow log
// id, and shows it again in DescribeFlowLogs, as EC2 would.
type flowLogDests struct {
	mu   sync.Mutex
	byID map[string]string
}

// s3Folder splits an S3 flow log destination with a folder into the bucket's
// ARN and reports whether there was a folder.
func s3Folder(form url.Values) (bucketARN string, ok bool) {
	if !strings.EqualFold(form.Get("LogDestinationType"), "s3") {
		return "", false
	}
	dest := form.Get("LogDestination")
	const prefix = "arn:aws:s3:::"
	i := strings.IndexByte(dest, '/')
	if !strings.HasPrefix(dest, prefix) || i < 0 {
		return "", false
	}
	return dest[:i], true
}

// created remembers dest for the flow logs moto's CreateFlowLogs answer
// names.
func (d *flowLogDests) created(answer []byte, dest string) error {
	root, err := parseXML(answer)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byID == nil {
		d.byID = map[string]string{}
	}
	for _, item := range root.items("flowLogIdSet") {
		if id := strings.TrimSpace(item.text); id != "" {
			d.byID[id] = dest
		}
	}
	return nil
}

// present puts the remembered destinations back into a DescribeFlowLogs
// answer.
func (d *flowLogDests) present(answer []byte) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.byID) == 0 {
		return answer, nil
	}
	root, err := parseXML(answer)
	if err != nil {
		return nil, err
	}
	for _, fl := range root.items("flowLogSet") {
		if dest, ok := d.byID[fl.value("flowLogId")]; ok {
			fl.set("logDestination", dest)
		}
	}
	return root.bytes(), nil
}
