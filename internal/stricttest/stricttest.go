// Package stricttest puts the AWS-strict layer (internal/strict) in front
// of moto for integration tests, so they see what real AWS refuses or does
// differently: requester-managed ENIs, the network ACL quota, StopTask held
// for an unreachable agent, atomic conditional writes in DynamoDB.
//
// Main is every moto test binary's TestMain (the layer is on by default;
// IRFLOW_AWS_STRICT=0 turns it off). It cannot live in mototest, whose
// world the strict package's own tests seed.
package stricttest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/strict"
)

// Main runs the test binary's tests against moto behind one AWS-strict
// layer: mototest.Endpoint and mototest.Config are the layer's,
// mototest.DirectEndpoint is moto's.
func Main(m *testing.M) { mototest.MainWith(m, strict.Start) }

// Layer is a strict layer serving one test.
type Layer struct {
	// URL is where the layer listens; Cfg is an SDK config aimed at it.
	URL string
	Cfg aws.Config
	// Direct is an SDK config aimed at moto itself, past the layer (what
	// AWS does in an account on its own, or reads a test makes to check
	// moto's state).
	Direct aws.Config
	// Control is the layer's control API.
	Control *strict.Client
}

// Start serves a layer in front of the test binary's moto until the test
// ends (it skips like mototest without moto). With IRFLOW_AWS_STRICT=0 the
// "layer" is moto itself.
func Start(t testing.TB) *Layer {
	t.Helper()
	ep := mototest.DirectEndpoint(t)
	url, stop, err := strict.Start(ep)
	if err != nil {
		t.Fatalf("starting the strict layer: %v", err)
	}
	t.Cleanup(stop)
	return &Layer{URL: url, Cfg: mototest.ConfigFor(url), Direct: mototest.ConfigFor(ep), Control: strict.NewClient(url)}
}

// Seed builds a mototest world through the layer: its handlers' calls,
// and the test's, then meet the strict rules.
func Seed(t testing.TB) (*mototest.World, *Layer) {
	t.Helper()
	l := Start(t)
	w, err := mototest.SeedWith(context.Background(), l.Cfg)
	if err != nil {
		t.Fatalf("seeding moto through the strict layer: %v", err)
	}
	return w, l
}

// SeedLedger is Seed with the world's Env.IncidentsTable an incidents
// table keyed by pk (IncidentsTable), for the tests of the actions that
// keep a containment ledger.
func SeedLedger(t testing.TB) (*mototest.World, *Layer) {
	t.Helper()
	w, l := Seed(t)
	w.Env.IncidentsTable = IncidentsTable(t, w.Cfg)
	return w, l
}

// Refusals returns what the layer refused (or accepted without carrying
// out) so far.
func (l *Layer) Refusals(t testing.TB) []strict.Refusal {
	t.Helper()
	rs, err := l.Control.Refusals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// NoRefusals fails the test (Errorf) if the layer refused anything so far.
func (l *Layer) NoRefusals(t testing.TB) {
	t.Helper()
	if rs := l.Refusals(t); len(rs) != 0 {
		t.Errorf("strict refusals %+v", rs)
	}
}

// IncidentsTable creates an incidents table keyed by the string attribute
// "pk" alone, as the deployment has it, and returns its name: the
// containment ledger's items are keyed "ledger#<caseId>" there. (mototest's
// world still keys its incidents table by taskArn until the trust work
// lands; tests of the ledger's users point Env.IncidentsTable here.)
func IncidentsTable(t testing.TB, cfg aws.Config) string {
	t.Helper()
	name := mototest.Unique("incidents-pk")
	_, err := dynamodb.NewFromConfig(cfg).CreateTable(context.Background(), &dynamodb.CreateTableInput{TableName: aws.String(name),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}})
	if err != nil {
		t.Fatalf("incidents table: %v", err)
	}
	return name
}
