import { describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { openStore } from '../src/store/open-store.ts';
import { CrashClock, CrashingDevice, copyOfMem as copyOf, keepOpen } from './helpers/devices.ts';

/**
 * openStore decides "fresh, format it" only when both disks are blank where the format
 * would write; a blank disk next to a live one is a replacement to rebuild, never a reason
 * to format over the live store; foreign or mixed pairs are refused and left untouched.
 * (Regressions from the review's probe.mts, probe2.mts and foreign.mts.)
 */
const BS = 512;
const N = 64;
const ID = 'ab'.repeat(16);
const blk = (v: number) => new Uint8Array(BS).fill(v);
const mem = () => new MemBlockDevice({ numBlocks: N, blockSize: BS });

describe('openStore fresh-device detection', () => {
  it('keeps a committed, not yet installed block when disk 0 is a blank replacement below the survivor epoch', async () => {
    const clock = new CrashClock();
    const m0 = mem();
    const m1 = mem();
    await openStore({ devices: [new CrashingDevice(m0, clock, { storeId: ID, index: 0, epoch: 0 }), new CrashingDevice(m1, clock, { storeId: ID, index: 1, epoch: 0 })] }).then(
      (s) => s.write(3, blk(7)),
    ); // no close: the process dies with the block only in the log
    const s = await openStore({
      devices: [new CrashingDevice(mem(), clock, { storeId: ID, index: 0, epoch: 0 }), new CrashingDevice(m1, clock, { storeId: ID, index: 1, epoch: 1 })],
    });
    expect((await s.read(3))[0]).toBe(7);
    await s.close();
  });

  it('refuses a blank disk next to a failed one instead of formatting a new, empty store', async () => {
    for (const dead of [0, 1] as const) {
      const blank = mem();
      const failed = mem();
      failed.fail();
      const devices: [MemBlockDevice, MemBlockDevice] = dead === 0 ? [failed, blank] : [blank, failed];
      await expect(openStore({ devices, numBlocks: 16 })).rejects.toMatchObject({ code: 'ERR_DEVICE_FAILED' });
      expect(blank.snapshot().size, `disk ${1 - dead} stays blank`).toBe(0);
    }
  });

  it('keeps installed data and the geometry when disk 0 is a blank replacement (after a clean close)', async () => {
    const clock = new CrashClock();
    const m0 = mem();
    const m1 = mem();
    let s = await openStore({
      logBlocks: 20,
      devices: [new CrashingDevice(m0, clock, { storeId: ID, index: 0, epoch: 0 }), new CrashingDevice(m1, clock, { storeId: ID, index: 1, epoch: 0 })],
    });
    for (let a = 0; a < 10; a++) await s.write(a, blk(a + 1));
    await s.close();
    s = await openStore({
      devices: [new CrashingDevice(mem(), clock, { storeId: ID, index: 0, epoch: 0 }), new CrashingDevice(m1, clock, { storeId: ID, index: 1, epoch: 1 })],
    });
    expect(s.status().log.totalBlocks).toBe(20);
    expect(s.numBlocks).toBe(N - 3 - 20);
    const got: number[] = [];
    for (let a = 0; a < 10; a++) got.push((await s.read(a))[0]);
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await s.close();
  });

  it('rebuilds a blank unlabelled disk 0 from the disk 1 that holds the store, instead of formatting over it', async () => {
    const a0 = mem();
    const a1 = mem();
    let s = await openStore({ devices: [keepOpen(a0), keepOpen(a1)] });
    await s.write(0, blk(9));
    await s.close();
    const fresh0 = mem();
    s = await openStore({ devices: [keepOpen(fresh0), keepOpen(await copyOf(a1))] });
    expect((await s.read(0))[0]).toBe(9);
    await s.close();
    // The rebuilt disk 0 now holds the store on its own.
    const alone = await openStore({ devices: [keepOpen(await copyOf(fresh0)), keepOpen(mem())] });
    expect((await alone.read(0))[0]).toBe(9);
    await alone.close();
  });

  it('refuses a foreign pair whose block 0 is zero but whose log region is not, and leaves it untouched', async () => {
    const f0 = mem();
    const f1 = mem();
    for (const d of [f0, f1]) for (let a = 5; a < 20; a++) await d.write(a, blk(0x5a));
    const before = [f0.snapshot(), f1.snapshot()];
    await expect(openStore({ devices: [f0, f1] })).rejects.toMatchObject({ code: 'ERR_BAD_IMAGE' });
    expect([f0.snapshot(), f1.snapshot()]).toEqual(before);
  });

  it('refuses a blank disk next to a foreign one, and two disks of two different stores, touching nothing', async () => {
    const foreign = mem();
    await foreign.write(0, blk(0x41));
    const blank = mem();
    await expect(openStore({ devices: [blank, foreign] })).rejects.toMatchObject({ code: 'ERR_BAD_IMAGE' });
    expect(blank.snapshot().size).toBe(0);

    const x = [mem(), mem()] as const;
    const y = [mem(), mem()] as const;
    for (const p of [x, y]) {
      const s = await openStore({ devices: [keepOpen(p[0]), keepOpen(p[1])] });
      await s.write(1, blk(p === x ? 1 : 2));
      await s.close();
    }
    const before = [x[0].snapshot(), y[1].snapshot()];
    await expect(openStore({ devices: [x[0], y[1]] })).rejects.toMatchObject({ code: 'ERR_MISMATCH' });
    expect([x[0].snapshot(), y[1].snapshot()]).toEqual(before);
  });

  it('completes a format cut short between the two superblock writes (only disk 1 got it)', async () => {
    const m0 = mem();
    const m1 = mem();
    const s = await openStore({ devices: [keepOpen(m0), keepOpen(m1)], logBlocks: 8 });
    await s.close();
    await m0.write(0, new Uint8Array(BS)); // disk 0's superblock write was lost
    const again = await openStore({ devices: [keepOpen(m0), keepOpen(m1)], logBlocks: 8 });
    await again.write(2, blk(4));
    await again.close();
    expect(m0.snapshot().get(0)).toEqual(m1.snapshot().get(0));
    const alone = await openStore({ devices: [keepOpen(await copyOf(m0)), keepOpen(mem())] });
    expect((await alone.read(2))[0]).toBe(4);
    await alone.close();
  });
});
