package mototest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestLauncherPatchesApply runs motoserver.py --check with the pinned moto:
// every speed-up must still find what it replaces (else moto would run
// unpatched, correct but slow, and nobody would notice).
func TestLauncherPatchesApply(t *testing.T) {
	bin := os.Getenv("IRFLOW_MOTO_SERVER")
	if bin == "" {
		bin = filepath.Join(repoRoot(), ".venv", "bin", "moto_server")
	}
	py, launcher, ok := motoLauncher(bin)
	if !ok {
		if os.Getenv("IRFLOW_REQUIRE_MOTO") == "1" {
			t.Fatalf("no Python beside %s", bin)
		}
		t.Skip("no moto virtualenv")
	}
	defer os.Remove(launcher)
	if out, err := exec.Command(py, launcher, "--check").CombinedOutput(); err != nil {
		t.Fatalf("motoserver.py --check: %v\n%s", err, out)
	}
}

// TestQueryByPartition: the launcher answers a Query on a table's key from
// the partition's items only; the answers must be DynamoDB's over a table of
// many partitions: only the partition's items, in key order both ways,
// Limit and ExclusiveStartKey, a sort-key condition, an unknown partition.
func TestQueryByPartition(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(Config(t))
	table := fmt.Sprintf("launcher-%d", os.Getpid())
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeN},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange},
		},
	}); err != nil {
		t.Fatal(err)
	}
	defer db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	// Numbers that sort differently as strings (2 < 10 < 11).
	seqs := []int{10, 2, 11, 1, 3}
	for _, pk := range []string{"case-b", "case-a", "case-c"} {
		for _, sk := range seqs {
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{
				"pk": &ddbtypes.AttributeValueMemberS{Value: pk},
				"sk": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(sk)},
			}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	query := func(pk string, forward bool, limit int32, cond string, start map[string]ddbtypes.AttributeValue) ([]string, map[string]ddbtypes.AttributeValue) {
		t.Helper()
		in := &dynamodb.QueryInput{TableName: aws.String(table), ScanIndexForward: aws.Bool(forward),
			KeyConditionExpression:    aws.String("pk = :pk" + cond),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: pk}},
			ExclusiveStartKey:         start}
		if cond != "" {
			in.ExpressionAttributeValues[":sk"] = &ddbtypes.AttributeValueMemberN{Value: "3"}
		}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		out, err := db.Query(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range out.Items {
			got = append(got, it["pk"].(*ddbtypes.AttributeValueMemberS).Value+"/"+it["sk"].(*ddbtypes.AttributeValueMemberN).Value)
		}
		return got, out.LastEvaluatedKey
	}
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	got, _ := query("case-a", true, 0, "", nil)
	check("forward", got, "case-a/1", "case-a/2", "case-a/3", "case-a/10", "case-a/11")
	got, _ = query("case-c", false, 0, "", nil)
	check("backward", got, "case-c/11", "case-c/10", "case-c/3", "case-c/2", "case-c/1")
	got, last := query("case-b", false, 1, "", nil)
	check("head (Limit 1, newest first)", got, "case-b/11")
	got, _ = query("case-b", false, 2, "", last)
	check("after the head", got, "case-b/10", "case-b/3")
	got, _ = query("case-a", true, 0, " AND sk > :sk", nil)
	check("sort-key condition", got, "case-a/10", "case-a/11")
	got, _ = query("case-z", true, 0, "", nil)
	check("unknown partition", got)
}

// TestTagsByResource: with the launcher an EC2 resource's tags are read by
// its id; every answer must be moto's scan's: each resource its own tags
// (ids that share a prefix included), DescribeTags by one id, by a
// wildcard, by key.
func TestTagsByResource(t *testing.T) {
	ctx := context.Background()
	c := ec2.NewFromConfig(Config(t))
	var ids []string
	for i := range 3 {
		out, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(fmt.Sprintf("10.%d.0.0/16", 200+i))})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.Vpc.VpcId)
		ids = append(ids, id)
		defer c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(id)})
		if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{
			{Key: aws.String("launcher-test"), Value: aws.String(fmt.Sprint(i))}, {Key: aws.String("z-order"), Value: aws.String("b")}}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range got.Vpcs {
		i := slices.Index(ids, aws.ToString(v.VpcId))
		var tags []string
		for _, tg := range v.Tags {
			tags = append(tags, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		slices.Sort(tags)
		if want := []string{fmt.Sprintf("launcher-test=%d", i), "z-order=b"}; !slices.Equal(tags, want) {
			t.Errorf("%s: tags %v; want %v", aws.ToString(v.VpcId), tags, want)
		}
	}
	count := func(name string, values ...string) int {
		t.Helper()
		out, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String(name), Values: values}}})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tg := range out.Tags {
			if slices.Contains(ids, aws.ToString(tg.ResourceId)) {
				n++
			}
		}
		return n
	}
	if n := count("resource-id", ids[1]); n != 2 {
		t.Errorf("DescribeTags resource-id %s: %d tags; want 2", ids[1], n)
	}
	if n := count("resource-id", ids[0][:len(ids[0])-2]+"*"); n < 2 {
		t.Errorf("DescribeTags resource-id with a wildcard: %d tags; want at least the first VPC's 2", n)
	}
	if n := count("key", "launcher-test"); n != 3 {
		t.Errorf("DescribeTags key launcher-test: %d; want 3", n)
	}
}
