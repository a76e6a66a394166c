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
 * HOOK(harness): crash states checked per second. Calls the harness's exploration API
 * when harness/ offers one (an `explore`/`benchExplore` function taking a time budget);
 * until then this reports "missing". Adapt the import and the call here once the
 * harness's API is fixed.
 */
export async function measureHarness(durationMs: number): Promise<OptionalFigure> {
  const mod = (await tryImport('../../harness/bench-hook.ts', 'bench-hook')) ?? (await tryImport('../../harness/explore.ts', 'explore'));
  if (!mod) return { status: 'missing', detail: 'no exploration API in harness/ yet (HOOK(harness) in bench/contenders/optional.ts)' };
  const fn = pickFn(mod, ['benchExplore', 'explore', 'exploreFor']);
  if (!fn) return { status: 'missing', detail: 'harness module found but it exports no explore function' };
  return runOptional(fn, { durationMs, timeBudgetMs: durationMs }, 'states/s', ['states', 'statesChecked', 'crashStates', 'checked'], ['statesPerSec', 'statesPerSecond']);
}

/**
 * Mail requests per second, from bench/mail-bench.ts (written by the mail helper) when it
 * is in the tree: its exported function gets a scratch directory and a time budget.
 */
export async function measureMail(scratch: Scratch, durationMs: number, dry: boolean): Promise<OptionalFigure> {
  const mod = await tryImport('../mail-bench.ts', 'mail-bench');
  if (!mod) return { status: 'missing', detail: 'bench/mail-bench.ts is not in the tree yet' };
  const fn = pickFn(mod, ['mailBench', 'runMailBench', 'benchMail', 'default']);
  if (!fn) return { status: 'missing', detail: 'bench/mail-bench.ts exports no benchmark function' };
  return runOptional(fn, { dir: scratch.path('mail'), durationMs, dry }, 'requests/s', ['requests', 'ops', 'count'], ['requestsPerSec', 'requestsPerSecond', 'opsPerSec']);
}
