// Package mototest runs irflow's integration tests against moto server, the
// local AWS emulator (PyPI moto[server], pinned in requirements.txt).
//
// A test binary calls Main from TestMain: it starts .venv/bin/moto_server on
// 127.0.0.1 on a free port (or uses IRFLOW_MOTO_ENDPOINT) and stops it when
// the tests end. Seed builds a fresh ECS world with unique names, so tests
// never need to reset the shared server. Without moto the tests skip, unless
// IRFLOW_REQUIRE_MOTO=1 (make test sets it), where they fail.
//
// moto quirks found here: RunTask of an awsvpc task fails with HTTP 500
// unless the VPC has DNS hostnames enabled; container definitions need memory.
package mototest
