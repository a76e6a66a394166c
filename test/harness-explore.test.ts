import { describe, expect, it } from 'vitest';
import { explore } from '../harness/explore.ts';
import { ForwardingDevice } from '../harness/forwarding-device.ts';
import { mutantCatalogue } from '../harness/mutant-catalogue.ts';
import { runMutant } from '../harness/suite.ts';
import { diskTarget } from '../harness/targets/disk-target.ts';
import { replicatedTarget } from '../harness/targets/replicated.ts';
import { stackTarget } from '../harness/targets/transactional.ts';
import type { BlockDevice } from '../src/device/block-device.ts';
import { procedure } from '../recovery/procedure.ts';

const sumStates = (r: Awaited<ReturnType<typeof explore>>) => Object.values(r.byModel).reduce((n, s) => n + (s?.states ?? 0), 0);

describe('exploration of our layers', () => {
  it('the replicated disk survives every crash point of its workloads under sync and buffered devices', async () => {
    const t = replicatedTarget();
    for (const w of t.workloads) {
      const r = await explore(t, w, { models: ['sync', 'buffered'], depth: 1 });
      expect(r.violations).toEqual([]);
      expect(r.points).toBeGreaterThan(3);
      expect(r.byModel.sync!.crashPoints).toBe(r.points + 1);
      expect(sumStates(r)).toBeGreaterThan(r.points);
    }
  });

  it('the whole stack survives every crash point under the synchronous model, recovery crashed once', async () => {
    const t = stackTarget();
    const r = await explore(t, t.workloads[0], { models: ['sync'], depth: 1 });
    expect(r.violations).toEqual([]);
    expect(r.byModel.sync!.states).toBeGreaterThan(r.points);
  });

  it('same seed, same run: the exploration is a function of (workload, seed)', async () => {
    const t = replicatedTarget();
    const w = t.workloads.find((x) => x.clients.length > 1)!;
    const strip = (r: Awaited<ReturnType<typeof explore>>) => JSON.stringify({ ...r, ms: 0, byModel: Object.fromEntries(Object.entries(r.byModel).map(([k, v]) => [k, { ...v, ms: 0 }])) });
    const a = await explore(t, w, { seed: 7, models: ['buffered'], depth: 1 });
    const b = await explore(t, w, { seed: 7, models: ['buffered'], depth: 1 });
    expect(strip(a)).toBe(strip(b));
  });

  it("a model's crash states do not depend on which models ran before it in the same exploration", async () => {
    const t = stackTarget();
    const alone = await explore(t, t.workloads[0], { models: ['torn'], depth: 1 });
    const after = await explore(t, t.workloads[0], { models: ['sync', 'buffered', 'torn'], depth: 1 });
    expect(alone.byModel.torn!.states).toBeGreaterThan(100);
    expect(after.byModel.torn!.states).toBe(alone.byModel.torn!.states);
  });

  it('reusing recovery outcomes and verdicts changes nothing: same states, violations and unknowns as running each afresh', async () => {
    const stats = (r: Awaited<ReturnType<typeof explore>>) => Object.fromEntries(Object.entries(r.byModel).map(([k, v]) => [k, [v!.states, v!.violations, v!.unknown, v!.crashPoints]]));
    const t = replicatedTarget();
    const w = t.workloads.find((x) => x.clients.length > 1)!;
    const fresh = await explore(t, w, { models: ['sync', 'buffered', 'fail'], depth: 1, reuse: false });
    const reused = await explore(t, w, { models: ['sync', 'buffered', 'fail'], depth: 1 });
    expect(sumStates(fresh)).toBeGreaterThan(100);
    expect(stats(reused)).toEqual(stats(fresh));
  });
});

describe('checking the checker: mutants are caught', () => {
  // wal-retire-unflushed-group differs from the log only when two commit groups are in
  // flight, so catching it also shows that the tx-pipeline workload reaches the pipeline.
  for (const name of ['rd-recovery-noop', 'rd-epoch-never-raised', 'wal-recovery-not-idempotent', 'wal-retire-before-install-flush', 'wal-retire-unflushed-group']) {
    it(`catches ${name}`, async () => {
      const m = mutantCatalogue.find((x) => x.name === name)!;
      const r = await runMutant(m, { depth: 1 }, 1);
      expect(r.caught).toBe(true);
      expect(r.by!.point).toBeGreaterThan(0);
    });
  }
});

/** A user's own layer: a write-back cache over one device. `flush()` writes the cache out. */
class WriteBackCache extends ForwardingDevice {
  readonly #dirty = new Map<number, Uint8Array>();
  override async read(a: number) {
    return this.#dirty.get(a)?.slice() ?? this.inner.read(a);
  }
  override async write(a: number, b: Uint8Array) {
    this.#dirty.set(a, new Uint8Array(b));
  }
  override async flush() {
    for (const [a, b] of [...this.#dirty]) await this.inner.write(a, b);
    this.#dirty.clear();
    await this.inner.flush();
  }
}

describe("a user's own layer, given a spec", () => {
  const target = (buffered: boolean) =>
    diskTarget({
      name: 'write-back-cache',
      description: 'a write-back cache over one device',
      devices: [{ numBlocks: 2, blockSize: 4096 }],
      models: ['sync', 'buffered'],
      numBlocks: 2,
      recovery: procedure<BlockDevice[], WriteBackCache>('cache', async ([d]) => new WriteBackCache(d)),
      workloads: [{ name: 'two-writes', clients: [[{ t: 'write', addr: 0, val: 1 }, { t: 'flush' }, { t: 'write', addr: 1, val: 2 }]] }],
      buffered: () => buffered,
    });

  it('refines the buffered atomic disk', async () => {
    const t = target(true);
    const r = await explore(t, t.workloads[0], { depth: 1 });
    expect(r.violations).toEqual([]);
  });

  it('does not refine the synchronous atomic disk, and the harness says where', async () => {
    const t = target(false);
    const r = await explore(t, t.workloads[0], { models: ['sync'], depth: 0 });
    expect(r.violations.length).toBeGreaterThan(0);
    // The first counterexample: a write returned, the crash came during the flush, the write was gone.
    expect(r.violations[0].history[0]).toBe('client0 {"t":"write","addr":0,"val":1} [0,1] -> null');
    expect(r.violations[0].detail).toContain('read-back');
  });

  it('a reused verdict is a verdict: every state whose history fails counts as a violation, as when each is checked afresh', async () => {
    const t = target(false);
    const fresh = await explore(t, t.workloads[0], { models: ['sync', 'buffered'], depth: 1, reuse: false });
    const reused = await explore(t, t.workloads[0], { models: ['sync', 'buffered'], depth: 1 });
    expect(fresh.byModel.sync!.violations).toBeGreaterThan(1);
    for (const m of ['sync', 'buffered'] as const) {
      expect(reused.byModel[m]!.states).toBe(fresh.byModel[m]!.states);
      expect(reused.byModel[m]!.violations).toBe(fresh.byModel[m]!.violations);
    }
    expect(reused.violations.map((v) => v.history)).toEqual(fresh.violations.map((v) => v.history));
  });
});
