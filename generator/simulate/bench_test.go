package simulate

import (
	"context"
	"os"
	"testing"

	"github.com/irflow/irflow/generator"
)

// BenchmarkSimulate compiles and simulates each shipped playbook on a
// GuardDuty finding of each launch type, as irflow simulate runs it; the
// target is well under 50 ms per run.
func BenchmarkSimulate(b *testing.B) {
	for _, p := range shippedPlaybooks(b) {
		src, err := os.ReadFile(p.file)
		if err != nil {
			b.Fatal(err)
		}
		for _, in := range []string{"guardduty-ec2-reverse-shell.json", "guardduty-fargate-cryptominer.json"} {
			input, err := os.ReadFile("../../examples/inputs/" + in)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(p.r.Name+"/"+in[len("guardduty-"):len("guardduty-")+3], func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					r, ds := generator.Compile(src, p.file, generator.Options{})
					if r == nil {
						b.Fatal(ds)
					}
					run, err := Run(context.Background(), r, input, Options{StartTime: simStart})
					if err != nil || run.Outcome != generator.OutcomeCompleted {
						b.Fatalf("%v %+v", err, run)
					}
				}
			})
		}
	}
}
