import type { Entry } from './history.ts';
import type { Spec } from './spec.ts';

export type Verdict = 'ok' | 'violation' | 'unknown';

export interface CheckResult {
  verdict: Verdict;
  /** Search steps taken (summed over partitions). */
  steps: number;
  /** On a violation: the furthest the search got, for the counterexample. */
  detail?: string;
}

export interface CheckOptions {
  /** Bound on search steps per partition; beyond it the answer is 'unknown'. */
  maxSteps?: number;
  /** Histories with fewer entries than this are checked whole, without partitioning. */
  partitionAbove?: number;
}

/**
 * Recovery-refinement checker, Porcupine-style: searches for an order of the history's
 * entries that respects real time (an entry can go next only if it was called before
 * every not-yet-placed required entry returned) and that the spec accepts, with
 * memoisation on (placed set, spec state).
 *
 * Crashes: an operation called before a crash and still pending can only be placed
 * before that crash or not at all (it took effect wholly or not at all); an operation
 * that returned must be placed exactly once between its call and return. Observations
 * (state read back after recovery) and crashes are instants.
 *
 * The search is bounded: past `maxSteps` it answers 'unknown' rather than hanging.
 */
export function checkHistory<S, Op, Res, Obs>(spec: Spec<S, Op, Res, Obs>, entries: Entry<Op, Res, Obs>[], options: CheckOptions = {}): CheckResult {
  const maxSteps = options.maxSteps ?? 200_000;
  const parts = spec.partition && entries.length >= (options.partitionAbove ?? 24) ? spec.partition(entries) : [entries];
  let steps = 0;
  let unknown = false;
  for (const part of parts) {
    const r = searchOne(spec, part, maxSteps);
    steps += r.steps;
    if (r.verdict === 'violation') return { verdict: 'violation', steps, detail: r.detail };
    if (r.verdict === 'unknown') unknown = true;
  }
  return { verdict: unknown ? 'unknown' : 'ok', steps };
}

function searchOne<S, Op, Res, Obs>(spec: Spec<S, Op, Res, Obs>, entries: Entry<Op, Res, Obs>[], maxSteps: number): CheckResult {
  const n = entries.length;
  const crashTimes = entries.filter((e) => e.kind === 'crash').map((e) => e.call);
  // How many crashes precede each entry's call: it may only be placed while exactly that many are placed.
  const epoch = entries.map((e) => crashTimes.filter((t) => t < e.call).length);
  const required = entries.map((e) => !e.pending);
  const done = new Uint8Array(n);
  const memo = new Set<string>();
  let steps = 0;
  let bestPlaced = -1;
  let bestDetail = '';
  let aborted = false;

  const apply = (s: S, e: Entry<Op, Res, Obs>): S | undefined => {
    if (e.kind === 'crash') return spec.crash(s);
    if (e.kind === 'observe') return spec.observe(s, e.obs as Obs);
    return spec.step(s, e.op as Op, e.pending ? undefined : e.result);
  };

  const dfs = (s: S, placed: number, crashes: number): boolean => {
    if (++steps > maxSteps) {
      aborted = true;
      return false;
    }
    let allDone = true;
    let minRet = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      if (done[i] || !required[i]) continue;
      allDone = false;
      if (entries[i].ret < minRet) minRet = entries[i].ret;
    }
    if (allDone) return true;
    const key = `${done.join('')}|${spec.key(s)}`;
    if (memo.has(key)) return false;
    for (let i = 0; i < n; i++) {
      if (done[i]) continue;
      const e = entries[i];
      if (e.call > minRet) break;
      if (epoch[i] !== crashes) continue;
      const next = apply(s, e);
      if (next === undefined) {
        if (required[i] && placed > bestPlaced) {
          bestPlaced = placed;
          bestDetail = `after ${placed} placed entries, ${describeEntry(e)} is impossible in spec state ${spec.show ? spec.show(s) : spec.key(s)}`;
        }
        continue;
      }
      done[i] = 1;
      const ok = dfs(next, placed + 1, crashes + (e.kind === 'crash' ? 1 : 0));
      done[i] = 0;
      if (ok) return true;
      if (aborted) return false;
    }
    memo.add(key);
    return false;
  };

  const ok = dfs(spec.init(), 0, 0);
  if (ok) return { verdict: 'ok', steps };
  if (aborted) return { verdict: 'unknown', steps };
  return { verdict: 'violation', steps, detail: bestDetail || 'no order of the history is accepted by the spec' };
}

export function describeEntry(e: Entry<unknown, unknown, unknown>): string {
  if (e.kind === 'crash') return `crash@${e.call}`;
  if (e.kind === 'observe') return `read-back@${e.call} = ${JSON.stringify(e.obs)}`;
  const res = e.pending ? 'pending' : e.error ? `error ${e.error}` : JSON.stringify(e.result);
  return `client${e.client} ${JSON.stringify(e.op)} [${e.call},${e.ret === Infinity ? '∞' : e.ret}] -> ${res}`;
}
