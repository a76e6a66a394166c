import { describe, expect, it } from 'vitest';
import { DeviceFailedError } from '../src/errors.ts';
import { SimDevice } from '../harness/sim/sim-device.ts';
import { World } from '../harness/sim/world.ts';

// In direct mode (recovery, read-back) the simulated device answers through a shorter path
// than the scheduled one. Both must refuse the same calls the same way: as a rejected
// promise, never a synchronous throw, with the base device's typed errors.

const geo = { numBlocks: 4, blockSize: 1024 };
const block = (v: number, n = 1024) => new Uint8Array(n).fill(v);
const outcome = (p: Promise<unknown>) =>
  p.then(
    (v) => ({ ok: v instanceof Uint8Array ? Array.from(v.subarray(0, 2)) : v }),
    (e: { code?: string }) => ({ err: e.code }),
  );

async function calls(mode: 'direct' | 'scheduled') {
  const w = new World(3);
  const d = new SimDevice(w, geo);
  const out: unknown[] = [];
  const body = (async () => {
    // Each call is made without await first, so that a synchronous throw would fail the test.
    for (const call of [() => d.read(4), () => d.read(1.5), () => d.write(-1, block(1)), () => d.write(0, block(1, 512)), () => d.write(0, block(9)), () => d.flush(), () => d.read(0)]) {
      const p = call();
      out.push(await outcome(p));
    }
  })();
  if (mode === 'scheduled') await w.runScheduled(body);
  else await body;
  return out;
}

describe('simulated device, direct and scheduled paths', () => {
  it('refuse bad addresses and buffers alike, as rejections with typed codes', async () => {
    const direct = await calls('direct');
    expect(direct).toEqual([{ err: 'ERR_INVALID_ADDRESS' }, { err: 'ERR_INVALID_ADDRESS' }, { err: 'ERR_INVALID_ADDRESS' }, { err: 'ERR_INVALID_BUFFER' }, { ok: undefined }, { ok: undefined }, { ok: [9, 9] }]);
    expect(await calls('scheduled')).toEqual(direct);
  });

  it('a read hands out its own buffer: changing it changes neither the device nor the next read', async () => {
    const w = new World(1);
    const d = new SimDevice(w, geo);
    await d.write(2, block(5));
    const a = await d.read(2);
    a.fill(0);
    expect(Array.from((await d.read(2)).subarray(0, 4))).toEqual([5, 5, 5, 5]);
    expect(Array.from((await d.read(3)).subarray(0, 4))).toEqual([0, 0, 0, 0]);
  });

  it('a failure injected at a write point rejects that write and the flush after it, in direct mode', async () => {
    const w = new World(1);
    const d = new SimDevice(w, geo);
    w.failures = [{ point: 2, device: 0 }];
    await d.write(0, block(1));
    const second = d.write(1, block(2));
    const err = await second.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeviceFailedError);
    await expect(d.flush()).rejects.toBeInstanceOf(DeviceFailedError);
    expect(w.points).toBe(2);
  });
});
