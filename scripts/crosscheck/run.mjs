// Cross-check: runs irflow's compiled state machines on aws-local-stepfunctions
// 3.0.0, an ASL engine independent of generator/internal/sim, and reports which
// states each execution entered and how it ended. generator/crosscheck_test.go
// writes the job and compares the report with the Go simulation.
//
// Task states never reach AWS: every Task replays, call by call, the result or
// error the Go simulation recorded for it. A Task the job does not describe, or a
// resource other than Lambda, is refused before anything runs.
//
// Usage: node --import ./polyfill.mjs run.mjs JOB.json > REPORT.json
//   JOB: {"machines": {name: definition}, "cases": [{"name", "machine", "input",
//         "context", "tasks": [state...], "calls": {state: [{"output"} | {"error", "cause"}]}}]}
//   REPORT: [{"name", "status", "error", "cause", "output", "entered": [state...],
//             "calls": {state: n}, "problem"}]
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { inspect } from './definition.mjs';

function prepare(def) {
  const m = inspect(def);
  m.sm = new StateMachine(def);
  return m;
}

function replay(c, name, counts) {
  return async () => {
    const i = (counts[name] = (counts[name] ?? 0) + 1);
    const rec = (c.calls[name] ?? [])[i - 1];
    if (!rec) {
      const e = new Error(`no recorded result for call ${i} of ${name}`);
      e.name = 'Crosscheck.Unrecorded';
      throw e;
    }
    if (rec.error !== undefined) {
      const e = new Error(rec.cause ?? '');
      e.name = rec.error;
      throw e;
    }
    return rec.output ?? null;
  };
}

async function runCase(m, c) {
  const report = { name: c.name, entered: [], calls: {} };
  const known = new Set(c.tasks);
  const missing = m.tasks.filter((t) => !known.has(t));
  if (m.refused.length || missing.length) {
    report.problem = `refused: ${[...m.refused, ...missing.map((t) => `${t}: no local handler`)].join('; ')}`;
    return report;
  }
  const handlers = {};
  for (const t of m.tasks) handlers[t] = replay(c, t, report.calls);
  const ex = m.sm.run(c.input, {
    overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: m.waits, retryIntervalOverrides: m.retries },
    context: c.context,
  });
  const drain = (async () => {
    for await (const ev of ex.eventLogs) {
      if (ev.type === 'StateEntered') report.entered.push(ev.state.name);
      if (ev.type === 'ExecutionFailed') Object.assign(report, { error: ev.Error, cause: String(ev.Cause ?? '') });
    }
  })();
  try {
    report.output = await ex.result;
    report.status = 'SUCCEEDED';
  } catch (e) {
    report.status = 'FAILED';
    report.error ??= e.cause?.name ?? e.name;
  }
  await drain;
  return report;
}

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const machines = {};
for (const [name, def] of Object.entries(job.machines)) {
  try {
    machines[name] = prepare(def);
  } catch (e) {
    machines[name] = { problem: `definition rejected: ${e.message ?? e}` };
  }
}
const out = [];
for (const c of job.cases) {
  const m = machines[c.machine];
  out.push(m.problem ? { name: c.name, problem: m.problem } : await runCase(m, c));
}
process.stdout.write(JSON.stringify(out));
