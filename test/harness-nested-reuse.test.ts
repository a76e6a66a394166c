import { describe, expect, it } from 'vitest';
import { explore, type ExploreResult } from '../harness/explore.ts';
import { mutantCatalogue } from '../harness/mutant-catalogue.ts';
import { transactionalTarget } from '../harness/targets/transactional.ts';

// Crash states inside recovery are keyed once per distinct device contents and reused at
// every recovery point with the same contents (buffered: durable blocks and pending writes;
// torn: the blocks as they read and the write cut short). With reuse off, every point's
// states are keyed afresh: the two explorations must count exactly the same.

const stats = (r: ExploreResult) => Object.fromEntries(Object.entries(r.byModel).map(([k, v]) => [k, [v!.states, v!.violations, v!.unknown, v!.crashPoints, v!.sampledPoints]]));

describe('nested crash states keyed by contents', () => {
  it('the log under torn and buffered devices, recovery crashed twice: same counts as keying every point afresh', async () => {
    const t = transactionalTarget();
    const fresh = await explore(t, t.workloads[0], { models: ['buffered', 'torn'], depth: 2, reuse: false });
    const reused = await explore(t, t.workloads[0], { models: ['buffered', 'torn'], depth: 2 });
    expect(reused.byModel.torn!.states).toBeGreaterThan(1000);
    expect(stats(reused)).toEqual(stats(fresh));
  });

  it('a mutant caught inside recovery is caught at the same point and crash-state path either way', async () => {
    const m = mutantCatalogue.find((x) => x.name === 'wal-recovery-not-idempotent')!;
    const t = m.target();
    const opts = { models: ['torn' as const], depth: 2, keepViolations: 50 };
    const fresh = await explore(t, t.workloads[0], { ...opts, reuse: false });
    const reused = await explore(t, t.workloads[0], opts);
    expect(fresh.byModel.torn!.violations).toBeGreaterThan(0);
    expect(stats(reused)).toEqual(stats(fresh));
    expect(reused.violations.map((v) => [v.point, v.path])).toEqual(fresh.violations.map((v) => [v.point, v.path]));
  });
});
