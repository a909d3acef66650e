package sim

import (
	"fmt"
	"runtime/debug"
	"time"
)

// scheduler runs the execution's processes (the top level, each Parallel
// branch, each Map iteration) one at a time on a virtual clock. A process
// runs until it sleeps or ends; then the ready process that wakes first
// runs (ties go to the one created first). Everything is deterministic, and
// exactly one goroutine holds the clock at any moment, so the interpreter
// needs no locks.
type scheduler struct {
	now      time.Time
	deadline time.Time // the execution's TimeoutSeconds; zero when none
	timedOut bool
	ready    []*proc
	ids      int
}

// proc is one process: a goroutine that runs only when the scheduler wakes it.
type proc struct {
	s     *scheduler
	id    int
	wake  time.Time
	ch    chan struct{}
	group *group // the fork it belongs to; nil for the top level
	// cut is set when a failure stopped p's fork while p slept past it.
	cut bool
}

// group is the set of children of one fork, and the process waiting for them.
type group struct {
	owner     *proc
	stopped   bool
	stoppedAt time.Time
}

// maxSleep bounds one sleep so the clock cannot overflow (100 years).
const maxSleep = 100 * 365 * 24 * time.Hour

func newScheduler(start, deadline time.Time) (*scheduler, *proc) {
	s := &scheduler{now: start, deadline: deadline}
	return s, &proc{s: s, wake: start, ch: make(chan struct{}, 1)}
}

// dispatch wakes the ready process that wakes first. The caller then blocks
// on its own channel or ends.
func (s *scheduler) dispatch() {
	if len(s.ready) == 0 {
		panic("sim: scheduler has nothing to run")
	}
	best := 0
	for i, p := range s.ready {
		b := s.ready[best]
		if p.wake.Before(b.wake) || p.wake.Equal(b.wake) && p.id < b.id {
			best = i
		}
	}
	p := s.ready[best]
	s.ready = append(s.ready[:best], s.ready[best+1:]...)
	if p.wake.After(s.now) {
		s.now = p.wake
	}
	p.ch <- struct{}{}
}

// sleep moves p's clock d on while other processes run. It returns
// errTimedOut when the execution's deadline comes first, and errCancelled
// when a sibling's failure stopped p's fork before p woke.
func (p *proc) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	s := p.s
	d = min(d, maxSleep)
	p.wake = s.now.Add(d)
	late := !s.deadline.IsZero() && p.wake.After(s.deadline)
	if late {
		p.wake = s.deadline
	}
	s.ready = append(s.ready, p)
	s.dispatch()
	<-p.ch
	switch {
	case late:
		s.timedOut = true
		return errTimedOut
	case s.timedOut:
		return errTimedOut
	case p.cut || p.stopped():
		return errCancelled
	}
	return nil
}

// stop stops fork g now: its processes asleep past this moment wake now,
// to end, as Step Functions stops the other branches of a failed Parallel
// at once instead of letting them wait out their Wait states.
func (s *scheduler) stop(g *group) {
	g.stopped, g.stoppedAt = true, s.now
	for _, p := range s.ready {
		if p.wake.After(s.now) && p.within(g) {
			p.wake, p.cut = s.now, true
		}
	}
}

// within reports whether p belongs to fork g, directly or through nested forks.
func (p *proc) within(g *group) bool {
	for h := p.group; h != nil; h = h.owner.group {
		if h == g {
			return true
		}
	}
	return false
}

// stopped reports whether a fork p belongs to (at any depth) was stopped
// before p's clock reached its current time.
func (p *proc) stopped() bool {
	for g := p.group; g != nil; g = g.owner.group {
		if g.stopped && p.wake.After(g.stoppedAt) {
			return true
		}
	}
	return false
}

// fork runs n children, at most limit at once (0: no limit), each in its own
// process starting now, and returns once every started child has ended. A
// child that returns an error stops the fork: no further child starts, and
// the running ones end when their clock passes the moment of the failure.
func (p *proc) fork(n, limit int, child func(i int, c *proc) error) {
	if n == 0 {
		return
	}
	s := p.s
	g := &group{owner: p}
	next, running := 0, 0
	var start func()
	start = func() {
		i := next
		next++
		running++
		s.ids++
		c := &proc{s: s, id: s.ids, wake: s.now, ch: make(chan struct{}, 1), group: g}
		s.ready = append(s.ready, c)
		go func() {
			<-c.ch
			err := protect(func() error { return child(i, c) })
			running--
			if err != nil && !g.stopped {
				s.stop(g)
			}
			for !g.stopped && next < n && (limit <= 0 || running < limit) {
				start()
			}
			if running == 0 {
				p.wake = s.now
				s.ready = append(s.ready, p)
			}
			s.dispatch()
		}()
	}
	for next < n && (limit <= 0 || running < limit) {
		start()
	}
	s.dispatch()
	<-p.ch
}

// protect turns a panic in a child process into a Fatal error, so one bug
// cannot leave the other processes waiting forever.
func protect(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Fatal{Err: fmt.Errorf("panic: %v\n%s", r, debug.Stack())}
		}
	}()
	return fn()
}
