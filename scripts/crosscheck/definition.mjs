// definition.mjs: what scripts/crosscheck/run.mjs and bench/node/stepfunctions.mjs
// both need to know of a compiled definition before aws-local-stepfunctions runs it.

// LAMBDA are the only Task resources irflow emits; anything else is refused.
export const LAMBDA = new Set(['arn:aws:states:::lambda:invoke', 'arn:aws:states:::lambda:invoke.waitForTaskToken']);

// walk lists a definition's states, those of Parallel branches and Map processors too.
export function walk(def, fn) {
  for (const [name, st] of Object.entries(def.States)) {
    fn(name, st);
    for (const b of st.Branches ?? []) walk(b, fn);
    const proc = st.ItemProcessor ?? st.Iterator;
    if (proc) walk(proc, fn);
  }
}

// inspect lists the Task states (each needs a local handler), zeroes every
// Wait and retry interval (virtual time, as the Go simulator) and refuses any
// Task that is not a Lambda invoke.
export function inspect(def) {
  const m = { tasks: [], waits: {}, retries: {}, refused: [] };
  walk(def, (name, st) => {
    if (st.Type === 'Task') {
      m.tasks.push(name);
      if (!LAMBDA.has(st.Resource)) m.refused.push(`${name}: resource ${st.Resource} is not a Lambda invoke`);
    }
    if (st.Type === 'Wait') m.waits[name] = 0;
    if (st.Retry) m.retries[name] = 0;
  });
  return m;
}
