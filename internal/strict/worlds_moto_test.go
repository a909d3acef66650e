package strict

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/irflow/irflow/internal/flowmodel"
	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/worlds"
)

// TestMotoWorldsThroughLayer: the bench's worlds, seeded through the
// layer, judged by the flow model through the layer: every flow the world
// names evaluates, and every established one is allowed before any
// response. The worlds go to a region of their own: Gather reads the whole
// region, and other tests leave malformed resources in theirs (moto takes
// an ACL entry for 10.9.32767.0/24).
func TestMotoWorldsThroughLayer(t *testing.T) {
	_, url := serve(t, mototest.Endpoint(t), Config{})
	const region = "us-west-2"
	direct := mototest.Config(t)
	direct.Region = region
	for _, name := range []string{"fargate", "fargate-public-ip", "ec2-awsvpc"} {
		t.Run(name, func(t *testing.T) {
			w, err := worlds.Build(ctx, sdkIn(url, region), direct, name)
			if err != nil {
				t.Fatal(err)
			}
			state, err := flowmodel.Gather(ctx, ec2.NewFromConfig(sdkIn(url, region)))
			if err != nil {
				t.Fatal(err)
			}
			n, err := flowmodel.FromEC2(state)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range w.Flows {
				v, err := n.Evaluate(f.Flow)
				if err != nil {
					t.Errorf("%s: %v", f.Name, err)
					continue
				}
				t.Logf("%s established=%v allowed=%v: %s", f.Name, f.Established, v.Allowed, v.Reason)
				if f.Established && !v.Allowed {
					t.Errorf("established flow %s blocked before any response: %s", f.Name, v.Reason)
				}
			}
		})
	}
}
