import { describe, expect, it } from 'vitest';
import { DeviceFailedError } from '../src/errors.ts';
import { BlockStore } from '../harness/sim/block-store.ts';
import { bufferedStates, latestImages, tornStates } from '../harness/sim/crash-states.ts';
import { SimDevice } from '../harness/sim/sim-device.ts';
import { World, type PointInfo } from '../harness/sim/world.ts';

const geo = { numBlocks: 4, blockSize: 4096 };
const block = (v: number) => new Uint8Array(4096).fill(v);
const settled = async (p: Promise<unknown>) => {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('simulated device write points', () => {
  it('numbers each block of a writev, each flush, and a label rewrite as a write plus a flush', async () => {
    const w = new World(1);
    const d = new SimDevice(w, geo);
    d.initLabel({ storeId: 'a'.repeat(32), index: 0, epoch: 0 });
    const seen: PointInfo[] = [];
    w.onPoint = (i) => seen.push(i);
    await d.writev(1, [block(1), block(2), block(3)]);
    await d.flush();
    await d.setLabel({ storeId: 'a'.repeat(32), index: 0, epoch: 1 });
    expect(seen.map((p) => `${p.kind}${p.addr ?? ''}`)).toEqual(['write1', 'write2', 'write3', 'flush', 'label', 'flush']);
    expect(seen.map((p) => p.point)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('stops the world at the crash point: that operation and later ones never settle and never take effect', async () => {
    const w = new World(1);
    const d = new SimDevice(w, geo);
    w.crashAt = 2;
    await d.write(0, block(1));
    const second = d.write(1, block(2));
    expect(await settled(second)).toBe(false);
    expect(await settled(d.read(0))).toBe(false);
    const s = d.snapshot();
    expect(s.latest.has(1)).toBe(false);
    expect(s.latest.get(0)?.[0]).toBe(1);
  });

  it('makes a write durable only when a flush issued after it completes', async () => {
    const w = new World(1);
    const d = new SimDevice(w, geo);
    await d.write(0, block(7));
    expect(d.snapshot().durable.has(0)).toBe(false);
    await d.flush();
    expect(d.snapshot().durable.get(0)?.[0]).toBe(7);
    expect(d.snapshot().pending).toHaveLength(0);
  });

  it('snapshots are not changed by later writes (copy on write)', async () => {
    const w = new World(1);
    const d = new SimDevice(w, geo);
    await d.write(0, block(1));
    const snap = d.snapshot();
    await d.write(0, block(2));
    await d.flush();
    expect(snap.latest.get(0)?.[0]).toBe(1);
    expect(snap.pending).toHaveLength(1);
  });
});

describe('crash states', () => {
  it('buffered: every combination per address of durable and pending values', async () => {
    const w = new World(1);
    const d = new SimDevice(w, geo);
    await d.write(0, block(1));
    await d.write(0, block(2));
    await d.write(1, block(3));
    const { states, exhaustive } = bufferedStates([d.snapshot()], 1);
    expect(exhaustive).toBe(true);
    // Address 0: zero, 1 or 2; address 1: zero or 3.
    expect(states).toHaveLength(6);
    const seen = new Set(states.map((s) => `${s.images[0].blocks.get(0)?.[0] ?? 0},${s.images[0].blocks.get(1)?.[0] ?? 0}`));
    expect(seen).toEqual(new Set(['0,0', '1,0', '2,0', '0,3', '1,3', '2,3']));
  });

  it('buffered: samples beyond the bound and says so', async () => {
    const w = new World(1);
    const d = new SimDevice(w, { numBlocks: 16, blockSize: 4096 });
    for (let a = 0; a < 12; a++) await d.write(a, block(a + 1));
    const { states, exhaustive } = bufferedStates([d.snapshot()], 1, { exhaustivePending: 10, sampled: 5 });
    expect(exhaustive).toBe(false);
    expect(states.length).toBeLessThanOrEqual(7);
    expect(states.length).toBeGreaterThanOrEqual(2);
  });

  it('torn: the cut write leaves a mix of old and new 512-byte sectors', async () => {
    const w = new World(1);
    const d = new SimDevice(w, geo);
    await d.write(0, block(1));
    let next: PointInfo | undefined;
    w.onPoint = (i) => (next = i);
    w.crashAt = 2;
    void d.write(0, block(2));
    const snaps = [d.snapshot()];
    const torn = tornStates(snaps, next, 1);
    expect(torn.length).toBeGreaterThanOrEqual(14);
    for (const t of torn) {
      const b = t.images[0].blocks.get(0)!;
      const sectors = Array.from({ length: 8 }, (_, i) => b[i * 512]);
      expect(sectors.every((v) => v === 1 || v === 2)).toBe(true);
      expect(new Set(sectors).size).toBe(2);
    }
    expect(latestImages(snaps)[0].blocks.get(0)?.[0]).toBe(1);
  });
});

describe('block store: content ids of maps', () => {
  it('gives a map and a per-address id array with the same contents the same id, and tells different contents apart', () => {
    const s = new BlockStore();
    const a = s.intern(block(1));
    const z = s.intern(new Uint8Array(4096));
    const m = new Map([[0, a], [3, z]]);
    const ids = new Int32Array(8);
    ids[0] = s.id(a);
    ids[3] = s.id(z);
    expect(s.idOfIds(ids)).toBe(s.idOfMap(m));
    expect(s.idOfMap(new Map([[0, block(1)], [3, new Uint8Array(4096)]]))).toBe(s.idOfMap(m));
    // A zero block written is not the same image as no block there; nor is another address.
    expect(s.idOfMap(new Map([[0, a]]))).not.toBe(s.idOfMap(m));
    expect(s.idOfMap(new Map([[0, a], [2, z]]))).not.toBe(s.idOfMap(m));
    // Sparse maps (blocks far apart) are keyed by pairs, the same way from either side.
    const far = new Int32Array(10_001);
    far[10_000] = s.id(a);
    expect(s.idOfIds(far)).toBe(s.idOfMap(new Map([[10_000, a]])));
    expect(s.idOfMap(new Map([[10_000, a]]))).not.toBe(s.idOfMap(new Map([[9_999, a]])));
  });

  it('keeps block bytes exact: interned blocks equal what was written, equal contents share one block', () => {
    const s = new BlockStore();
    const x = block(7);
    const stored = s.intern(x);
    x[5] ^= 1;
    expect(stored[5]).toBe(block(7)[5]);
    expect(s.intern(block(7))).toBe(stored);
    const y = block(7);
    y[4095] ^= 1;
    expect(s.id(y)).not.toBe(s.id(stored));
  });
});

describe('a failed simulated device', () => {
  it('rejects every call with DeviceFailedError (code and message kept, stack trace dropped for speed)', async () => {
    const w = new World(1);
    const d = new SimDevice(w, geo);
    await d.write(0, block(1));
    d.fail('pulled');
    for (const call of [() => d.read(0), () => d.write(1, block(2)), () => d.flush()]) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DeviceFailedError);
      expect((err as DeviceFailedError).code).toBe(new DeviceFailedError().code);
    }
    // Closing still works on the failed device, and a closed device is still refused as closed.
    const e2 = new SimDevice(w, geo);
    await e2.close();
    await expect(e2.read(0)).rejects.toHaveProperty('code', 'ERR_CLOSED');
  });
});
