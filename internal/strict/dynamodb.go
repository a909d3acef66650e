package strict

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"

	"github.com/irflow/irflow/internal/awsproxy"
)

// dynamoWrites are the DynamoDB operations that write. "Individual write
// operations such as UpdateItem are atomic and always operate on the most
// recent version of the item, regardless of concurrency", and optimistic
// locking "detects conflicts at write time using conditional writes" (Best
// practices for handling concurrent updates in DynamoDB —
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/BestPractices_ImplementingVersionControl.html).
// moto server runs requests on threads and checks a condition, then writes:
// two attribute_not_exists puts on one key can both succeed.
var dynamoWrites = map[string]bool{
	"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true, "TransactWriteItems": true,
}

// serveDynamoDB forwards writes one table at a time: the layer holds the
// lock of every table a write names while moto checks and writes, so moto's
// check-then-act becomes as atomic as DynamoDB's conditional write. Reads
// pass freely (a read in DynamoDB is not isolated from writes either,
// beyond item-level atomicity).
func (l *Layer) serveDynamoDB(w http.ResponseWriter, r *http.Request, body []byte, svc awsproxy.Service) {
	if !dynamoWrites[svc.Operation] {
		l.next.ServeHTTP(w, r)
		return
	}
	c := callerOf(svc)
	var keys []string
	for _, t := range writeTables(svc.Operation, body) {
		keys = append(keys, "dynamodb "+c.AccessKey+" "+c.Region+" "+t)
	}
	defer l.locks.lock(keys...)()
	l.next.ServeHTTP(w, r)
}

// writeTables names the tables a write request touches.
func writeTables(op string, body []byte) []string {
	var req struct {
		TableName     string                     `json:"TableName"`
		RequestItems  map[string]json.RawMessage `json:"RequestItems"`
		TransactItems []map[string]struct {
			TableName string `json:"TableName"`
		} `json:"TransactItems"`
	}
	if json.Unmarshal(body, &req) != nil {
		return nil // moto answers the malformed request
	}
	var out []string
	if req.TableName != "" {
		out = append(out, req.TableName)
	}
	for t := range req.RequestItems {
		out = append(out, t)
	}
	for _, item := range req.TransactItems {
		for _, action := range item { // Put, Update, Delete, ConditionCheck
			if action.TableName != "" {
				out = append(out, action.TableName)
			}
		}
	}
	return out
}

// keyedLocks serialize work per key: a DynamoDB table, and a network ACL
// whose rule quota is checked before an entry is added.
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

// lock takes the locks of keys in sorted order (two requests naming the
// same tables never deadlock) and returns the function that releases them.
func (k *keyedLocks) lock(keys ...string) func() {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	held := make([]*sync.Mutex, 0, len(keys))
	for _, key := range keys {
		k.mu.Lock()
		if k.m == nil {
			k.m = map[string]*sync.Mutex{}
		}
		m := k.m[key]
		if m == nil {
			m = &sync.Mutex{}
			k.m[key] = m
		}
		k.mu.Unlock()
		m.Lock()
		held = append(held, m)
	}
	return func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i].Unlock()
		}
	}
}
