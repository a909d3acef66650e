package stress

import (
	"net/http"

	"github.com/irflow/irflow/internal/awsproxy"
)

// byService sends DynamoDB's requests to one moto server and every other
// request to another. moto is one Python process that serves one request
// at a time, and under 200 concurrent executions it is the bottleneck:
// half of what they ask is DynamoDB (audit chains, locks, ledgers,
// approvals), which shares no state with the other services in moto, so a
// server of its own doubles what moto can answer on a machine with two
// cores and changes no answer.
type byService struct {
	dynamodb, rest http.Handler
}

func (b byService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if awsproxy.IsControlPath(r.URL.Path) {
		b.rest.ServeHTTP(w, r)
		return
	}
	r, _, svc, err := awsproxy.Prepare(r)
	if err != nil {
		http.Error(w, "stress: reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if svc.Name == "dynamodb" {
		b.dynamodb.ServeHTTP(w, r)
		return
	}
	b.rest.ServeHTTP(w, r)
}
