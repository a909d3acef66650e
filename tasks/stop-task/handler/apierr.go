package handler

import (
	"errors"

	"github.com/aws/smithy-go"
)

// apiCode is the AWS error code of err, or "".
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
