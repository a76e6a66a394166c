import { performance } from 'node:perf_hooks';
import { explore } from '../../harness/explore.ts';
import type { Target } from '../../harness/target.ts';
import { replicatedTarget } from '../../harness/targets/replicated.ts';
import { RssSampler } from '../measure.ts';
import type { OptionalFigure } from '../results.ts';
import type { Scratch } from '../tmp.ts';
import { isModuleMissing } from './store-api.ts';

type AnyFn = (options: Record<string, unknown>) => Promise<unknown>;

/** Imports a module by a computed path, so a module that has not landed yet is "missing", not a crash. */
async function tryImport(path: string, name: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(path)) as Record<string, unknown>;
  } catch (err) {
    if (isModuleMissing(err, name)) return undefined;
    throw err;
  }
}

function pickFn(mod: Record<string, unknown>, names: string[]): AnyFn | undefined {
  for (const n of names) if (typeof mod[n] === 'function') return mod[n] as AnyFn;
  return undefined;
}

/** Reads a rate out of whatever shape the callee returns: `{perSec}`-like fields, or a count and a duration. */
export function rateOf(result: unknown, countKeys: string[], rateKeys: string[]): number | undefined {
  const r = result as Record<string, unknown> | undefined;
  if (!r || typeof r !== 'object') return undefined;
  for (const k of rateKeys) if (typeof r[k] === 'number') return r[k] as number;
  const secs = typeof r.seconds === 'number' ? r.seconds : typeof r.elapsedMs === 'number' ? (r.elapsedMs as number) / 1000 : undefined;
  for (const k of countKeys) if (typeof r[k] === 'number' && secs) return (r[k] as number) / secs;
  return undefined;
}

async function runOptional(
  fn: AnyFn,
  options: Record<string, unknown>,
  unit: string,
  countKeys: string[],
  rateKeys: string[],
): Promise<OptionalFigure> {
  const rss = new RssSampler();
  const timer = setInterval(() => rss.sample(), 20);
  try {
    const result = await fn(options);
    rss.sample();
    const value = rateOf(result, countKeys, rateKeys);
    if (value === undefined) return { status: 'failed', detail: `unrecognised result: ${JSON.stringify(result)?.slice(0, 200)}`, rssPeakBytes: rss.peakBytes };
    return { status: 'measured', detail: 'measured', value, unit, rssPeakBytes: rss.peakBytes, extra: result as Record<string, unknown> };
  } catch (err) {
    return { status: 'failed', detail: (err as Error).message, rssPeakBytes: rss.peakBytes };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Crash states checked per second by the harness: runs the harness's exhaustive
 * exploration (harness/explore.ts) over the shipped targets' workloads, seed after seed,
 * until the time budget is spent, and divides the states it checked by the time it took.
 * Add a target to HARNESS_TARGETS as the harness grows (the stack, the mail server).
 */
export async function measureHarness(durationMs: number, maxRuns = Infinity): Promise<OptionalFigure> {
  const rss = new RssSampler();
  const timer = setInterval(() => rss.sample(), 20);
  try {
    const targets = HARNESS_TARGETS();
    let states = 0, violations = 0, runs = 0, ms = 0;
    const start = performance.now();
    for (let seed = 1; runs === 0 || (runs < maxRuns && performance.now() - start < durationMs); seed++) {
      for (const target of targets) {
        for (const workload of target.workloads) {
          if (runs >= maxRuns) break;
          const r = await explore(target, workload, { seed });
          for (const m of Object.values(r.byModel)) {
            states += m?.states ?? 0;
            violations += m?.violations ?? 0;
          }
          ms += r.ms;
          runs++;
        }
      }
    }
    rss.sample();
    const names = targets.map((t) => t.name).join(', ');
    return {
      status: 'measured',
      detail: `${states} crash states in ${runs} explorations of ${names}; ${violations} violations`,
      value: (states * 1000) / (performance.now() - start),
      unit: 'states/s',
      rssPeakBytes: rss.peakBytes,
      extra: { states, violations, runs, exploreMs: ms, targets: names },
    };
  } catch (err) {
    return { status: 'failed', detail: (err as Error).message, rssPeakBytes: rss.peakBytes };
  } finally {
    clearInterval(timer);
  }
}

/** The targets whose exploration is timed (a function so that nothing is built at import). */
const HARNESS_TARGETS = (): Target[] => [replicatedTarget()];

/**
 * Mail requests per second, from bench/mail-bench.ts (the mail helper's benchmark: each
 * request is deliver + pickup + delete + unlock for one user) when it is in the tree. Its
 * file-backed figure is the headline, like every other figure here; the memory-device
 * figure is shown next to it.
 */
export async function measureMail(scratch: Scratch, durationMs: number, dry: boolean): Promise<OptionalFigure> {
  const mod = await tryImport('../mail-bench.ts', 'mail-bench');
  if (!mod) return { status: 'missing', detail: 'bench/mail-bench.ts is not in the tree yet' };
  const fn = pickFn(mod, ['runMailBench', 'mailBench', 'benchMail', 'default']);
  if (!fn) return { status: 'missing', detail: 'bench/mail-bench.ts exports no benchmark function' };
  const fig = await runOptional(fn, { dir: scratch.path('mail'), durationMs, dry }, 'requests/s', ['requests', 'ops', 'count'], ['requestsPerSec', 'requestsPerSecond', 'opsPerSec']);
  const r = fig.extra as { clients?: number; file?: { requestsPerSec: number }; mem?: { requestsPerSec: number } } | undefined;
  if (fig.status === 'measured' && r?.file) {
    fig.value = r.file.requestsPerSec;
    fig.detail = `deliver+pickup+delete+unlock, ${r.clients ?? '?'} clients, store on two files; on memory devices ${r.mem ? Math.round(r.mem.requestsPerSec) : '—'} requests/s; run in the bench process`;
  }
  return fig;
}
