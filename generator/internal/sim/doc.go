// Package sim runs compiled Amazon States Language (JSONPath query language)
// on a virtual clock: Pass, Task, Choice, Parallel, Map, Wait, Succeed and
// Fail; InputPath, Parameters (paths, the context object, intrinsic
// functions), ResultSelector, ResultPath and OutputPath; Retry with backoff
// and jitter, Catch, TimeoutSeconds and HeartbeatSeconds. Waits, retry
// delays and timeouts advance the clock instead of sleeping, so a 30-minute
// approval timeout costs nothing.
//
// Parallel branches and Map iterations run as cooperative processes under a
// deterministic scheduler: the process that wakes earliest runs next (ties go
// to the one created first), one at a time. A failing branch stops its
// siblings once the clock moves past the failure, as Step Functions stops the
// other branches of a failed Parallel.
//
// Whatever the package does not implement (a field, a JSONPath feature, an
// intrinsic function, a query language) is an error before the first state
// runs, never skipped. Task states do their work through an Invoker, so the
// package knows nothing about Lambda or irflow's actions.
package sim
