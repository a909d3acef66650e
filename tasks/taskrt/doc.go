// Package taskrt is the shared runtime of irflow's task Lambdas: the payload
// and result types, the named errors Step Functions matches on, AWS client
// configuration loaded once per process, structured logs that carry the case
// but never a task token, the evidence writer and the hash-chained audit log.
//
// A task's main only wires: it loads the config, builds its clients and
// starts the Lambda with Runtime.Invoke.
package taskrt
