import fc from 'fast-check';
import { explore, type ExploreOptions, type Violation } from './explore.ts';
import type { DiskOp } from './spec/atomic-disk.ts';
import type { TxOp } from './spec/transactional-disk.ts';
import type { Target, Workload } from './target.ts';

/** Random disk workloads: 1..3 concurrent clients, 1..4 operations each, over `blocks` addresses. */
export function diskWorkloads(blocks: number): fc.Arbitrary<Workload<DiskOp>> {
  const op: fc.Arbitrary<DiskOp> = fc.oneof(
    fc.record({ t: fc.constant('write' as const), addr: fc.nat(blocks - 1), val: fc.integer({ min: 1, max: 99 }) }),
    fc.record({ t: fc.constant('read' as const), addr: fc.nat(blocks - 1) }),
    fc.constant({ t: 'flush' } as DiskOp),
  );
  return fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }).map((clients) => ({ name: 'random', clients }));
}

/** Random transactional workloads: transactions of up to 2 reads and 2 writes, and plain reads. */
export function txWorkloads(blocks: number): fc.Arbitrary<Workload<TxOp>> {
  const addr = fc.nat(blocks - 1);
  const op: fc.Arbitrary<TxOp> = fc.oneof(
    fc.record({
      t: fc.constant('tx' as const),
      reads: fc.uniqueArray(addr, { maxLength: 2 }),
      writes: fc.uniqueArray(fc.tuple(addr, fc.integer({ min: 1, max: 99 })), { minLength: 1, maxLength: 2, selector: (w) => w[0] }),
    }),
    fc.record({ t: fc.constant('read' as const), addr }),
  );
  return fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 2 }).map((clients) => ({ name: 'random', clients }));
}

export interface RandomResult {
  runs: number;
  states: number;
  /** The shrunk counterexample, if fast-check found a workload with a violation. */
  counterexample?: { workload: Workload; violation: Violation };
}

/**
 * Explores random workloads until `budgetMs` runs out; on a violation fast-check shrinks
 * the workload to a smaller one that still fails.
 */
export async function randomExplore(target: Target, arb: fc.Arbitrary<Workload>, budgetMs: number, options: Partial<ExploreOptions>): Promise<RandomResult> {
  let runs = 0;
  let states = 0;
  let last: { workload: Workload; violation: Violation } | undefined;
  const prop = fc.asyncProperty(arb, async (workload) => {
    runs++;
    const r = await explore(target, workload, { ...options, stopAtFirst: true });
    states += Object.values(r.byModel).reduce((n, s) => n + (s?.states ?? 0), 0);
    if (r.violations.length) {
      last = { workload, violation: r.violations[0] };
      return false;
    }
    return true;
  });
  const out = await fc.check(prop, { seed: options.seed ?? 1, numRuns: 1_000_000, interruptAfterTimeLimit: budgetMs, markInterruptAsFailure: false });
  return { runs, states, counterexample: out.failed ? last : undefined };
}
