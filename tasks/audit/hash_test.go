package audit

import "testing"

// TestComputeHashPinned pins the hash of records as written today: the
// canonical JSON ComputeHash hashes (keys, order, escaping) must not change,
// or the chains already stored stop verifying. A record's own Hash and MAC
// never enter it. The first is the SHA-256 of
// {"caseId":"case-7","seq":1,"at":"2026-01-01T00:00:01Z","executionId":"arn:...:case-7",
// "step":"s","action":"a","event":"result","status":"OK","summary":"step 1","detail":"{}","prevHash":"000…0"}
// (no whitespace), as docs/internals.md describes.
func TestComputeHashPinned(t *testing.T) {
	tests := []struct {
		name string
		r    Record
		want string
	}{
		{"first record", Record{CaseID: testCase, Seq: 1, At: "2026-01-01T00:00:01Z", ExecutionID: testExec,
			Step: "s", Action: "a", Event: "result", Status: "OK", Summary: "step 1", Detail: "{}", PrevHash: GenesisHash},
			"de341731c55bfb3c29cee4a6f5a485852ce4e48f349fbfa866daf79325725661"},
		{"escaping, hash and mac set", Record{CaseID: "c<&>", Seq: 42, At: "2026-02-03T04:05:06.789Z", ExecutionID: "e\u2028x",
			Step: "st\"ep", Action: "act\\ion", Event: "ev\nent", Status: "ÉRROR", Summary: "", Detail: `{"k":"v<b>"}`,
			PrevHash: "ab", Hash: "not-covered", MAC: "not-covered-either"},
			"7e7b0ff6bf1131abce92d8a551a2ac7bfc998b7033084ca9a49e20042d2ccaa1"},
		{"empty", Record{}, "d1c880868baea2e1e3b3c5eaaf95e965c4ca75d2f06fc530d2e49903eb0a5e21"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.ComputeHash(); got != tt.want {
				t.Errorf("ComputeHash() = %s, want %s", got, tt.want)
			}
		})
	}
}
