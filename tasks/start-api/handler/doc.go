// Package handler is the start API: the Lambda behind a Function URL with
// AWS_IAM auth that starts a response for the caller the signed request
// proves, and vouches for it. It builds the console input from the request
// (requestedBy is the caller, never a field of the body), seals it with a
// MAC of the deployment's HMAC key in KMS (Seal: the state machine, the
// execution name, the caller, the time and the input's digest), and starts
// the playbook's state machine with the sealed input, the execution named
// after the case. resolve-target verifies the seal (kms:VerifyMac) and only
// then takes the caller for a verified requester; anything else a console
// can start is a claim, and its gates need two approvers.
//
// `irflow start` calls it with a SigV4-signed request, as `irflow approve`
// calls the approval API. Its role may start irflow's state machines and
// make MACs with the HMAC key, nothing else.
package handler
