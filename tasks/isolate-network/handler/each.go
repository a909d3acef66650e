package handler

import "sync"

// inFlight bounds the calls one fan-out has in flight: what isolation
// changes at once (network ACL entries, groups and their rules, ENIs) is
// independent, so it goes out together and costs one round trip, not one
// per change.
const inFlight = 8

// each runs fn(0..n-1) at once, at most inFlight at a time, and returns
// the first error in index order (plan order), whatever order they came in.
func each(n int, fn func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
