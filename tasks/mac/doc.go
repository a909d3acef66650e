// Package mac authenticates what irflow must be able to trust later with an
// HMAC key in AWS KMS (KeySpec HMAC_256, KeyUsage GENERATE_VERIFY_MAC): the
// audit records every function appends, the anchor finalize-case writes
// into the Object Lock manifest, and the envelope the start API puts around
// the execution input it starts. The key never leaves KMS, so write access
// to DynamoDB, S3 or Step Functions alone cannot forge any of them; only a
// principal allowed kms:GenerateMac on the key can.
//
// Every message is domain-separated by a purpose ("audit-record/v1", ...)
// so a MAC made for one use never verifies for another, and stays within
// KMS's 4096-byte message limit: callers pass digests and short fields.
package mac
