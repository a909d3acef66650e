package awsproxy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
)

// TestWriteErrorParsedBySDK: an error written in each protocol's shape comes
// back from the real SDK client with its code and message, and ParseError
// reads the same code and message out of the raw answer.
func TestWriteErrorParsedBySDK(t *testing.T) {
	want := Error{Status: http.StatusBadRequest, Code: "SomeCode", Message: "some <message> & more",
		Fields: map[string]string{"__type": "InvalidInputException"}}
	var last *Recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, _, svc, _ := Prepare(r)
		e := want
		if svc.Protocol != ProtoRESTJSON {
			e.Fields = nil
		}
		last = NewRecorder()
		WriteError(last, r, svc, e)
		last.Send(w, nil)
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		BaseEndpoint: aws.String(srv.URL), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	ctx := context.Background()
	tests := []struct {
		name  string
		proto string
		call  func() error
	}{
		{"ec2Query", ProtoEC2, func() error { _, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}); return err }},
		{"awsJson", ProtoJSON, func() error { _, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{}); return err }},
		{"awsQuery", ProtoQuery, func() error { _, err := iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{}); return err }},
		{"restJson", ProtoRESTJSON, func() error {
			_, err := guardduty.NewFromConfig(cfg).ListDetectors(ctx, &guardduty.ListDetectorsInput{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != want.Code || api.ErrorMessage() != want.Message {
				t.Fatalf("SDK error %v; want %s: %s", err, want.Code, want.Message)
			}
			code, msg, ok := ParseError(Service{Protocol: tt.proto}, last.Code, last.Header(), last.Body.Bytes())
			if !ok || code != want.Code || msg != want.Message {
				t.Errorf("ParseError = %q %q %v; want %q %q", code, msg, ok, want.Code, want.Message)
			}
		})
	}
}

func TestParseErrorForms(t *testing.T) {
	tests := []struct {
		name, proto, body, header, code string
	}{
		{"awsJson namespace", ProtoJSON, `{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"m"}`, "", "ConditionalCheckFailedException"},
		{"restJson header", ProtoRESTJSON, `{"message":"m"}`, "BadRequestException:http://internal.amazon.com/coral/", "BadRequestException"},
		{"success", ProtoJSON, `{}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("X-Amzn-ErrorType", tt.header)
			}
			status := 400
			if tt.code == "" {
				status = 200
			}
			if code, _, _ := ParseError(Service{Protocol: tt.proto}, status, h, []byte(tt.body)); code != tt.code {
				t.Errorf("code %q; want %q", code, tt.code)
			}
		})
	}
}
