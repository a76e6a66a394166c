import { DEFAULT_EXPLORE, explore, type ExploreOptions, type ExploreResult, type Violation } from './explore.ts';
import type { CrashModel } from './sim/crash-states.ts';
import type { Mutant } from './mutant-catalogue.ts';
import type { Target } from './target.ts';

export interface MutantResult {
  mutant: string;
  layer: string;
  change: string;
  caught: boolean;
  /** The first violation found: which workload, model and crash point caught it. */
  by?: Violation;
  states: number;
  ms: number;
}

/** Runs every shipped workload of a target. */
export async function exploreTarget(target: Target, options: Partial<ExploreOptions>, only?: { workloads?: string[]; onResult?: (r: ExploreResult) => void }): Promise<ExploreResult[]> {
  const out: ExploreResult[] = [];
  for (const w of target.workloads) {
    if (only?.workloads && !only.workloads.includes(w.name)) continue;
    const r = await explore(target, w, options);
    only?.onResult?.(r);
    out.push(r);
  }
  return out;
}

/**
 * Runs a mutant's target until the first violation. Workloads with concurrent clients are
 * tried under a few seeds, since a race shows only under some interleavings. Each model
 * runs over every workload before the next model (in the order given: the cheap sync
 * model first), so a mutant that sync catches in a later workload does not first wait for
 * an earlier workload's buffered states, which cost a hundred times more.
 */
export async function runMutant(m: Mutant, options: Partial<ExploreOptions>, seeds = 4): Promise<MutantResult> {
  const t0 = performance.now();
  const target = m.target();
  const models = (options.models ?? DEFAULT_EXPLORE.models).filter((x) => target.models.includes(x));
  let states = 0;
  for (let s = 0; s < seeds; s++) {
    for (const model of models) {
      for (const w of target.workloads) {
        if (s > 0 && w.clients.length < 2) continue;
        const r = await explore(target, w, { ...options, models: [model], seed: (options.seed ?? 1) + s, stopAtFirst: true });
        states += Object.values(r.byModel).reduce((n, x) => n + (x?.states ?? 0), 0);
        if (r.violations.length) return { mutant: m.name, layer: m.layer, change: m.change, caught: true, by: r.violations[0], states, ms: performance.now() - t0 };
      }
    }
  }
  return { mutant: m.name, layer: m.layer, change: m.change, caught: false, states, ms: performance.now() - t0 };
}

export function totals(results: readonly ExploreResult[]): Record<CrashModel, { states: number; violations: number; unknown: number; ms: number; sampledPoints: number }> {
  const t = {} as Record<CrashModel, { states: number; violations: number; unknown: number; ms: number; sampledPoints: number }>;
  for (const r of results) {
    for (const [m, s] of Object.entries(r.byModel)) {
      const x = (t[m as CrashModel] ??= { states: 0, violations: 0, unknown: 0, ms: 0, sampledPoints: 0 });
      x.states += s!.states;
      x.violations += s!.violations;
      x.unknown += s!.unknown;
      x.ms += s!.ms;
      x.sampledPoints += s!.sampledPoints;
    }
  }
  return t;
}
