// Times irflow's compiled state machines on aws-local-stepfunctions 3.0.0, the
// independent ASL engine of the cross-check, for `make bench` (scripts/bench.sh).
//
// Every Task state answers from a local handler with the result the Go
// simulation (generator.Simulate, mock mode, approve path) recorded for the
// same call: the handler reads the Payload's action, step and mode and replays
// that key's next recorded result. Waits and retry intervals are zero, as in
// the Go simulator's virtual time. A Task whose resource is not a Lambda
// invoke, or a call nothing was recorded for, is refused: nothing reaches AWS.
//
// Per case: one checked run (its states entered and Task calls counted, to
// compare with Go), `warmup` untimed runs, `runs` timed runs of one
// StateMachine (construction excluded), then `constructs` times a fresh
// `new StateMachine(def)` followed by one run (construction included).
//
// Usage: node --import ./scripts/crosscheck/polyfill.mjs bench/node/stepfunctions.mjs JOB.json > OUT.json
//   JOB (bench/cmd/report sim): {"machines": {name: def}, "cases": [{"name", "machine", "input",
//        "context", "responses": {"action|step|mode": [result...]}, "expect": {...}}],
//        "runs", "warmup", "constructs"}
//   OUT: {"engine", "node", "runs", "warmup", "constructs", "cases": [{"name", "status", "outcome", "transitions", "invocations",
//        "runNs": [...], "constructNs": [...], "constructRunNs": [...], "problem"}]}
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { inspect } from '../../scripts/crosscheck/definition.mjs';

function prepare(def) {
  const m = inspect(def);
  return m;
}

function named(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}

function isError(rec) {
  return rec !== null && typeof rec === 'object' && 'error' in rec && Object.keys(rec).every((k) => k === 'error' || k === 'cause');
}

// handlers builds one run's local handlers; counts.total is the Task calls made.
function handlers(m, c, counts) {
  const h = {};
  for (const t of m.tasks) {
    h[t] = async (input) => {
      const p = input?.Payload ?? {};
      const key = `${p.action ?? ''}|${p.step ?? ''}|${p.mode ?? ''}`;
      const i = (counts[key] = (counts[key] ?? 0) + 1);
      counts.total++;
      const rec = c.responses[key]?.[i - 1];
      if (rec === undefined) throw named('Bench.Unrecorded', `no recorded result for call ${i} of ${key} (${t})`);
      if (isError(rec)) throw named(rec.error, rec.cause ?? '');
      return rec;
    };
  }
  return h;
}

async function runOnce(sm, m, c, check) {
  const counts = { total: 0 };
  const ex = sm.run(c.input, {
    overrides: { taskResourceLocalHandlers: handlers(m, c, counts), waitTimeOverrides: m.waits, retryIntervalOverrides: m.retries },
    context: c.context,
  });
  const report = { transitions: 0 };
  const drain = check
    ? (async () => {
        for await (const ev of ex.eventLogs) {
          if (ev.type === 'StateEntered') report.transitions++;
          if (ev.type === 'ExecutionFailed') Object.assign(report, { error: ev.Error, cause: String(ev.Cause ?? '') });
        }
      })()
    : null;
  try {
    const out = await ex.result;
    report.status = 'SUCCEEDED';
    report.outcome = out?.outcome ?? '';
  } catch (e) {
    report.status = 'FAILED';
    report.error ??= e.cause?.name ?? e.name;
  }
  if (drain) await drain;
  report.invocations = counts.total;
  return report;
}

const ns = (a, b) => Number(b - a);
const now = () => process.hrtime.bigint();

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const pkg = JSON.parse(readFileSync(new URL('../../node_modules/aws-local-stepfunctions/package.json', import.meta.url), 'utf8'));
const engine = `aws-local-stepfunctions ${pkg.version}`;
const cases = [];
for (const c of job.cases) {
  const def = job.machines[c.machine];
  const m = prepare(def);
  const row = { name: c.name, runNs: [], constructNs: [], constructRunNs: [] };
  cases.push(row);
  if (m.refused.length) {
    row.problem = `refused: ${m.refused.join('; ')}`;
    continue;
  }
  const sm = new StateMachine(def);
  Object.assign(row, await runOnce(sm, m, c, true));
  const e = c.expect;
  const diffs = [];
  for (const k of ['status', 'outcome', 'transitions', 'invocations']) {
    if (row[k] !== e[k]) diffs.push(`${k} ${row[k]} (Go: ${e[k]})`);
  }
  if (diffs.length) {
    row.problem = `differs from the Go simulation: ${diffs.join(', ')}${row.error ? ` [${row.error}: ${row.cause ?? ''}]` : ''}`;
    continue;
  }
  for (let i = 0; i < job.warmup; i++) await runOnce(sm, m, c, false);
  for (let i = 0; i < job.runs; i++) {
    const t0 = now();
    await runOnce(sm, m, c, false);
    row.runNs.push(ns(t0, now()));
  }
  for (let i = 0; i < job.constructs; i++) {
    const t0 = now();
    const fresh = new StateMachine(def);
    const t1 = now();
    await runOnce(fresh, m, c, false);
    const t2 = now();
    row.constructNs.push(ns(t0, t1));
    row.constructRunNs.push(ns(t0, t2));
  }
  process.stderr.write(`bench: ${c.name}: ${row.runNs.length} runs on ${engine}\n`);
}
process.stdout.write(JSON.stringify({ engine, node: process.version, runs: job.runs, warmup: job.warmup, constructs: job.constructs, cases }));
