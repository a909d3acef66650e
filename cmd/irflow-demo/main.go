// Command irflow-demo is `make demo`: a full local incident response on both ECS
// launch types against moto server (the local AWS emulator). It seeds an
// ECS world in moto, runs workflows/crypto-mining.yaml on a GuardDuty
// finding about a Fargate task and on one about an EC2 task with the real
// task handlers (the code path of `irflow simulate --aws-endpoint`), decides
// each approval gate through the real approval API handler, then prints the
// approvals, the evidence objects with their recomputed SHA-256 and the
// verified audit chain of each case.
//
// It lives under tasks/ to use tasks/internal/mototest; it is not a Lambda
// (scripts/build-tasks.sh builds tasks/*/main.go only). scripts/demo.sh
// builds everything, starts moto and runs it:
//
//	go run ./tasks/internal/demo --endpoint http://127.0.0.1:PORT [--out build/demo] [--irflow bin/irflow]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/irflow/irflow/internal/demo"
)

func main() {
	endpoint := flag.String("endpoint", os.Getenv("IRFLOW_MOTO_ENDPOINT"), "moto server `URL` (default $IRFLOW_MOTO_ENDPOINT)")
	out := flag.String("out", "", "`DIR` for the handlers' JSON log and each case's report, manifest and audit chain (default build/demo)")
	irflow := flag.String("irflow", "", "the irflow CLI `binary`; when set, `irflow audit --verify` runs on one case as an operator would")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: demo --endpoint URL [--out DIR] [--irflow bin/irflow]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *endpoint == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	res, err := demo.Run(ctx, demo.Options{Endpoint: *endpoint, Out: *out, Irflow: *irflow, Stdout: os.Stdout})
	if err != nil {
		fmt.Fprintf(os.Stdout, "\ndemo: %v\n", err)
		os.Exit(1)
	}
	if !res.OK() {
		fmt.Fprintln(os.Stdout, "\ndemo: FAILED: see the lines marked above")
		os.Exit(1)
	}
}
