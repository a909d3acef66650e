package schemas

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSchemasCompile(t *testing.T) {
	for _, u := range []string{ExecutionInputURL, TaskPayloadURL} {
		if _, err := Compiled(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestExecutionInputSamples(t *testing.T) {
	s := MustCompiled(ExecutionInputURL)
	files, _ := filepath.Glob("../examples/inputs/*.json")
	if len(files) == 0 {
		t.Fatal("no sample inputs in examples/inputs")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestExecutionInputRejects(t *testing.T) {
	s := MustCompiled(ExecutionInputURL)
	tests := []struct{ name, input string }{
		{"empty object", `{}`},
		{"array", `[]`},
		{"wrong service arn", `{"taskArn":"arn:aws:ec2:us-east-1:111122223333:task/c/0f8e7d6c5b4a39281706f5e4d3c2b1a0","reason":"x","requestedBy":"me"}`},
		{"wrong partition", `{"taskArn":"arn:evil:ecs:us-east-1:111122223333:task/c/0f8e7d6c5b4a39281706f5e4d3c2b1a0","reason":"x","requestedBy":"me"}`},
		{"shell metacharacters", `{"taskArn":"arn:aws:ecs:us-east-1:111122223333:task/c;rm -rf/0f8e7d6c5b4a39281706f5e4d3c2b1a0","reason":"x","requestedBy":"me"}`},
		{"missing reason", `{"taskArn":"arn:aws:ecs:us-east-1:111122223333:task/c/0f8e7d6c5b4a39281706f5e4d3c2b1a0","requestedBy":"me"}`},
		{"unknown key", `{"taskArn":"arn:aws:ecs:us-east-1:111122223333:task/c/0f8e7d6c5b4a39281706f5e4d3c2b1a0","reason":"x","requestedBy":"me","dryrun":true}`},
		{"guardduty ec2 finding", `{"source":"aws.guardduty","detail-type":"GuardDuty Finding","detail":{"id":"x","type":"Recon:EC2/PortProbeUnprotectedPort","severity":2,"resource":{"resourceType":"Instance"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			if err := json.NewDecoder(strings.NewReader(tt.input)).Decode(&v); err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(v); err == nil {
				t.Errorf("accepted %s", tt.input)
			}
		})
	}
}
