package strict

import "testing"

// TestCallLogByAccount: a world's calls are its account's in its region,
// whichever access key made them (irflow acts in a member account with a
// key per responder role); another account's or region's are not.
func TestCallLogByAccount(t *testing.T) {
	var cl callLog
	accounts := map[string]string{"world": "222233334444", "role-a": "222233334444", "role-b": "222233334444", "home": "123456789012"}
	cl.accountOf = func(c caller) string { return accounts[c.AccessKey] }
	for _, k := range []string{"role-a", "home", "role-b"} {
		cl.recordAs(caller{AccessKey: k, Region: "us-east-1"}, accounts[k], "ModifyNetworkInterfaceAttribute", nil, nil)
	}
	cl.recordAs(caller{AccessKey: "role-a", Region: "eu-west-1"}, accounts["role-a"], "CreateNetworkAclEntry", nil, nil)
	cl.record(caller{AccessKey: "unknown", Region: "us-east-1"}, "DeleteNetworkAclEntry", nil, nil)
	got, next := cl.since(0, caller{AccessKey: "world", Region: "us-east-1"})
	if len(got) != 2 || next != 5 {
		t.Errorf("the member world's calls: %d (next %d); want role-a's and role-b's in us-east-1", len(got), next)
	}
	if got, _ := cl.since(0, caller{AccessKey: "unknown", Region: "us-east-1"}); len(got) != 1 {
		t.Errorf("a caller of no known account: %d calls; want its own only", len(got))
	}
	cl.accountOf = nil
	if got, _ := cl.since(0, caller{AccessKey: "role-a", Region: "us-east-1"}); len(got) != 1 {
		t.Errorf("without accounts: %d calls; want the key's own", len(got))
	}
}
