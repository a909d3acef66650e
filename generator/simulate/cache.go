package simulate

import (
	"crypto/sha256"
	"sync"

	"github.com/irflow/irflow/generator/internal/asl"
)

// memo is a small bounded cache keyed by the SHA-256 of some bytes, for
// work that is a pure function of them: parsing a definition, checking a
// payload against its schema. A long test or a server simulating the same
// playbook many times pays each once.
type memo[V any] struct {
	mu   sync.Mutex
	max  int
	vals map[[32]byte]V
}

func (m *memo[V]) get(b []byte, compute func() V) V {
	key := sha256.Sum256(b)
	m.mu.Lock()
	v, ok := m.vals[key]
	m.mu.Unlock()
	if ok {
		return v
	}
	v = compute()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.vals == nil || len(m.vals) >= m.max {
		m.vals = map[[32]byte]V{} // forget everything: simpler than LRU, and rare
	}
	m.vals[key] = v
	return v
}

// reset forgets everything (benchmarks of cold runs).
func (m *memo[V]) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vals = nil
}

type parsed struct {
	sm  *asl.StateMachine
	err error
}

// definitions caches parsed definitions. The simulator never changes one.
var definitions = &memo[parsed]{max: 64}

// parseDefinition parses compiled ASL bytes, the definition that is deployed.
func parseDefinition(b []byte) (*asl.StateMachine, error) {
	p := definitions.get(b, func() parsed {
		sm, err := asl.Parse(b)
		return parsed{sm, err}
	})
	return p.sm, p.err
}
