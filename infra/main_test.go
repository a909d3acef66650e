package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// TestMain starts the jsii kernel once for the whole binary (the first
// synth pays for it), and stops it and removes the placeholder assets at
// the end.
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	if assetsDir != "" {
		os.RemoveAll(assetsDir)
	}
	os.Exit(code)
}

// synthesized is one stack built the way main builds it, with the template
// as CDK assertions see it and as plain JSON for walking.
type synthesized struct {
	stack     awscdk.Stack
	cfg       Config
	playbooks []Playbook
	template  assertions.Template
	resources map[string]resource
	outputs   map[string]any
}

// resource is one entry of the template's Resources.
type resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	DeletionPolicy string         `json:"DeletionPolicy"`
	Metadata       map[string]any `json:"Metadata"`
}

var (
	defaultOnce  sync.Once
	defaultStack *synthesized
	defaultErr   error
)

// defaultSynth is the stack of the repository's playbooks with cdk.json's
// defaults, built once and shared by the tests that only read it.
func defaultSynth(t *testing.T) *synthesized {
	t.Helper()
	defaultOnce.Do(func() { defaultStack, defaultErr = build(nil) })
	if defaultErr != nil {
		t.Fatalf("synth: %v", defaultErr)
	}
	return defaultStack
}

// synthWith is the stack synthesized from context, or the default stack
// for a nil one.
func synthWith(t *testing.T, context map[string]any) *synthesized {
	t.Helper()
	if context == nil {
		return defaultSynth(t)
	}
	s, err := build(context)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// build synthesizes a stack from context (assetDir defaults to placeholder
// bootstraps, so no test needs `make build`). Assertion and jsii panics come
// back as errors.
func build(context map[string]any) (s *synthesized, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	ctx := map[string]any{}
	for k, v := range context {
		ctx[k] = v
	}
	if _, ok := ctx[ctxAssetDir]; !ok {
		dir, err := placeholderAssets()
		if err != nil {
			return nil, err
		}
		ctx[ctxAssetDir] = dir
	}
	app := NewApp(ctx, "")
	wd, _ := os.Getwd()
	cfg, err := ConfigFromContext(app.Node(), RepoRoot(wd))
	if err != nil {
		return nil, err
	}
	playbooks, err := LoadPlaybooks(cfg.PlaybookDir)
	if err != nil {
		return nil, err
	}
	stack := NewIrflowStack(app, "Irflow", &IrflowStackProps{Config: cfg, Playbooks: playbooks})
	ApplyNag(app)
	tmpl := assertions.Template_FromStack(stack, nil)
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		return nil, err
	}
	var doc struct {
		Resources map[string]resource `json:"Resources"`
		Outputs   map[string]any      `json:"Outputs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	return &synthesized{stack, cfg, playbooks, tmpl, doc.Resources, doc.Outputs}, nil
}

var (
	assetsOnce sync.Once
	assetsDir  string
	assetsErr  error
)

// placeholderAssets writes one small bootstrap per function into a
// temporary folder, standing in for `make build`'s binaries.
func placeholderAssets() (string, error) {
	assetsOnce.Do(func() {
		assetsDir, assetsErr = os.MkdirTemp("", "irflow-assets-")
		if assetsErr != nil {
			return
		}
		for _, s := range functionSpecs() {
			d := filepath.Join(assetsDir, s.name)
			if assetsErr = os.MkdirAll(d, 0o755); assetsErr != nil {
				return
			}
			assetsErr = os.WriteFile(filepath.Join(d, "bootstrap"), []byte("#!/bin/sh\n# placeholder for "+s.name+"\n"), 0o755)
			if assetsErr != nil {
				return
			}
		}
	})
	return assetsDir, assetsErr
}

// check runs an assertions call and turns its panic into a test failure.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// ofType returns the logical ids of the resources of one type, sorted.
func (s *synthesized) ofType(typ string) []string {
	var out []string
	for id, r := range s.resources {
		if r.Type == typ {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// byPrefix returns the one resource of a type whose logical id starts with
// prefix (CDK appends a hash to construct ids).
func (s *synthesized) byPrefix(t *testing.T, typ, prefix string) (string, resource) {
	t.Helper()
	var found []string
	for _, id := range s.ofType(typ) {
		if strings.HasPrefix(id, prefix) && len(id) == len(prefix)+8 {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s %s*: found %v; want exactly one", typ, prefix, found)
	}
	return found[0], s.resources[found[0]]
}

// getAtt returns the logical id a {"Fn::GetAtt": [id, attr]} or {"Ref": id} names.
func getAtt(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if ref, ok := m["Ref"].(string); ok {
		return ref
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
		s, _ := ga[0].(string)
		return s
	}
	return ""
}

// strs reads a string or a list of strings (IAM's Action and Resource).
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// list reads a JSON array, or wraps a single value.
func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// path walks nested maps: path(m, "a", "b") is m["a"]["b"].
func path(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
