import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileBlockDevice } from '../src/device/file-block-device.ts';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { AllDisksFailedError } from '../src/errors.ts';
import { ReplicatedDisk } from '../src/replicated/replicated-disk.ts';
import { jittery, seeded } from './helpers/devices.ts';
import { pattern, tmpDir } from './helpers/tmp.ts';

const mem = (n = 16) => new MemBlockDevice({ numBlocks: n });
const bytes = (u: Uint8Array) => Buffer.from(u);

describe('ReplicatedDisk pairing', () => {
  let t: ReturnType<typeof tmpDir>;
  beforeEach(() => {
    t = tmpDir();
  });
  afterEach(async () => t.cleanup());

  async function pair(storeId?: string) {
    const d0 = await FileBlockDevice.create(path.join(t.dir, `${storeId ?? 'a'}0.img`), { numBlocks: 8, label: { index: 0, storeId } });
    const d1 = await FileBlockDevice.create(path.join(t.dir, `${storeId ?? 'a'}1.img`), { numBlocks: 8, label: { index: 1, storeId: d0.label.storeId } });
    return [d0, d1] as const;
  }

  it('refuses disks from different stores, without writing', async () => {
    const [a0] = await pair('11'.repeat(16));
    const [, b1] = await pair('22'.repeat(16));
    await b1.write(0, pattern(4096, 1));
    await expect(ReplicatedDisk.open(a0, b1)).rejects.toMatchObject({ code: 'ERR_MISMATCH' });
    // Recovery copies disk 0 onto disk 1, so the disk it would overwrite is b1: it must keep its block.
    expect(bytes(await b1.read(0)).equals(pattern(4096, 1))).toBe(true);
    expect(bytes(await a0.read(0)).equals(Buffer.alloc(4096))).toBe(true);
  });

  it('refuses a swapped pair', async () => {
    const [d0, d1] = await pair();
    await expect(ReplicatedDisk.open(d1, d0)).rejects.toMatchObject({ code: 'ERR_MISMATCH', message: expect.stringMatching(/swapped/) });
  });

  it('refuses two copies of the same disk, and one device given twice', async () => {
    const [d0] = await pair();
    const copy = await FileBlockDevice.create(path.join(t.dir, 'copy.img'), { numBlocks: 8, label: { index: 0, storeId: d0.label.storeId } });
    await expect(ReplicatedDisk.open(d0, copy)).rejects.toMatchObject({ code: 'ERR_MISMATCH' });
    await expect(ReplicatedDisk.open(d0, d0)).rejects.toMatchObject({ code: 'ERR_MISMATCH' });
  });

  it('refuses different geometry and a labelled/unlabelled mix', async () => {
    await expect(ReplicatedDisk.open(mem(8), mem(9))).rejects.toMatchObject({ code: 'ERR_MISMATCH' });
    const [d0] = await pair();
    await expect(ReplicatedDisk.open(d0, mem(8))).rejects.toMatchObject({ code: 'ERR_MISMATCH' });
  });

  it('takes the disk with the higher epoch as the source, whichever index it has', async () => {
    const [d0, d1] = await pair();
    await d0.write(2, pattern(4096, 5)); // stale data on disk 0
    await d1.write(2, pattern(4096, 6));
    await d1.setLabel({ ...d1.label, epoch: 3 });
    const disk = await ReplicatedDisk.open(d0, d1);
    expect(bytes(await disk.read(2)).equals(pattern(4096, 6))).toBe(true);
    expect(bytes(await d0.read(2)).equals(pattern(4096, 6))).toBe(true);
    expect(d0.label.epoch).toBe(3);
    await disk.close();
  });
});

describe('ReplicatedDisk recovery', () => {
  it('copies disk 0 onto disk 1 wherever they differ, and only there', async () => {
    const d0 = mem(), d1 = mem();
    await d0.write(1, pattern(4096, 1));
    await d1.write(1, pattern(4096, 1));
    await d0.write(4, pattern(4096, 4)); // a write that reached disk 0 only
    await d1.write(9, pattern(4096, 9)); // a write that reached... disk 1 only: impossible in order, but must be undone
    const disk = await ReplicatedDisk.open(d0, d1);
    for (const a of [1, 4, 9]) expect(bytes(await d1.read(a)).equals(bytes(await d0.read(a)))).toBe(true);
    expect(bytes(await disk.read(9)).equals(Buffer.alloc(4096))).toBe(true);
  });

  it('opens degraded when a disk fails during recovery, serving the survivor', async () => {
    const d0 = mem(), d1 = mem();
    await d0.write(3, pattern(4096, 3));
    d1.fail();
    const disk = await ReplicatedDisk.open(d0, d1);
    expect(disk.status()).toEqual({ degraded: true, disks: [{ index: 0, state: 'ok' }, { index: 1, state: 'failed' }] });
    expect(bytes(await disk.read(3)).equals(pattern(4096, 3))).toBe(true);
  });
});

describe('ReplicatedDisk degraded mode', () => {
  it('reads from disk 1 after disk 0 fails, and keeps writing to the survivor', async () => {
    const d0 = mem(), d1 = mem();
    const disk = await ReplicatedDisk.open(d0, d1);
    await disk.write(5, pattern(4096, 5));
    d0.fail();
    expect(bytes(await disk.read(5)).equals(pattern(4096, 5))).toBe(true);
    await disk.write(6, pattern(4096, 6));
    await disk.flush();
    expect(bytes(await d1.read(6)).equals(pattern(4096, 6))).toBe(true);
    expect(disk.status().degraded).toBe(true);
    expect(disk.status().disks[0].state).toBe('failed');
  });

  it('rejects with a typed error when both disks have failed', async () => {
    const d0 = mem(), d1 = mem();
    const disk = await ReplicatedDisk.open(d0, d1);
    d0.fail();
    d1.fail();
    await expect(disk.read(0)).rejects.toBeInstanceOf(AllDisksFailedError);
    await expect(disk.write(0, pattern(4096, 0))).rejects.toMatchObject({ code: 'ERR_DEVICE_FAILED' });
  });

  it('rebuilds an attached replacement from the survivor while writes go on', async () => {
    const d0 = mem(64), d1 = mem(64);
    const disk = await ReplicatedDisk.open(d0, d1);
    for (let a = 0; a < 64; a += 3) await disk.write(a, pattern(4096, a));
    d1.fail();
    await disk.write(1, pattern(4096, 1001));
    const fresh = mem(64);
    const writes = Array.from({ length: 20 }, (_, i) => disk.write(i * 3 + 2, pattern(4096, 2000 + i)));
    await Promise.all([disk.attach(1, fresh), ...writes]);
    expect(disk.status()).toEqual({ degraded: false, disks: [{ index: 0, state: 'ok' }, { index: 1, state: 'ok' }] });
    for (let a = 0; a < 64; a++) expect(bytes(await fresh.read(a)).equals(bytes(await d0.read(a))), `address ${a}`).toBe(true);
  });

  it('refuses to attach over a healthy disk or with another geometry', async () => {
    const d0 = mem(), d1 = mem();
    const disk = await ReplicatedDisk.open(d0, d1);
    await expect(disk.attach(1, mem())).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    d1.fail();
    await disk.read(0);
    await disk.write(0, pattern(4096, 0));
    await expect(disk.attach(1, mem(17))).rejects.toMatchObject({ code: 'ERR_MISMATCH' });
  });

  it('after a restart, the survivor of a failure is the source even if the failed disk comes back', async () => {
    const t = tmpDir();
    try {
      const f0 = path.join(t.dir, 'd0.img'), f1 = path.join(t.dir, 'd1.img');
      const d0 = await FileBlockDevice.create(f0, { numBlocks: 8, label: { index: 0 } });
      const d1 = await FileBlockDevice.create(f1, { numBlocks: 8, label: { index: 1, storeId: d0.label.storeId } });
      const disk = await ReplicatedDisk.open(d0, d1);
      await disk.write(2, pattern(4096, 1));
      d0.markFailed('pulled');
      await disk.write(2, pattern(4096, 2)); // acknowledged on disk 1 only
      await disk.close();
      const again = await ReplicatedDisk.open(await FileBlockDevice.open(f0), await FileBlockDevice.open(f1));
      expect(bytes(await again.read(2)).equals(pattern(4096, 2))).toBe(true);
      await again.close();
    } finally {
      await t.cleanup();
    }
  });
});

describe('ReplicatedDisk concurrency', () => {
  it('serialises writers on one address so the mirrors end equal', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = seeded(seed);
      const d0 = mem(4), d1 = mem(4);
      const disk = await ReplicatedDisk.open(jittery(d0, rand), jittery(d1, rand));
      await Promise.all(Array.from({ length: 12 }, (_, i) => disk.write(i % 2, pattern(4096, seed * 100 + i))));
      for (const a of [0, 1]) expect(bytes(await d0.read(a)).equals(bytes(await d1.read(a))), `seed ${seed} address ${a}`).toBe(true);
      expect(disk.activeLocks).toBe(0);
    }
  });

  it('keeps no lock for an address nobody holds or waits for', async () => {
    const disk = await ReplicatedDisk.open(mem(1024), mem(1024));
    await Promise.all(Array.from({ length: 1024 }, (_, a) => disk.write(a, pattern(4096, a))));
    await Promise.all(Array.from({ length: 1024 }, (_, a) => disk.read(a)));
    expect(disk.activeLocks).toBe(0);
  });

  it('shares one flush per disk among concurrent callers', async () => {
    let deviceFlushes = 0;
    const slow = (d: MemBlockDevice) => ({
      blockSize: d.blockSize, numBlocks: d.numBlocks,
      read: (a: number) => d.read(a), write: (a: number, b: Uint8Array) => d.write(a, b), close: () => d.close(),
      flush: async () => { deviceFlushes++; await new Promise((r) => setTimeout(r, 5)); },
    });
    const disk = await ReplicatedDisk.open(slow(mem()), slow(mem()));
    deviceFlushes = 0;
    await Promise.all(Array.from({ length: 16 }, async (_, i) => { await disk.write(i, pattern(4096, i)); await disk.flush(); }));
    // 16 callers, two disks: at most one running flush plus one follow-up per disk.
    expect(deviceFlushes).toBeLessThanOrEqual(4);
    expect(deviceFlushes).toBeGreaterThanOrEqual(2);
  });

  it('gives a flush that starts during another its own round (it must cover later writes)', async () => {
    const flushedValues: string[] = [];
    const d0 = mem(), d1 = mem();
    const tracking = (d: MemBlockDevice) => ({
      blockSize: d.blockSize, numBlocks: d.numBlocks,
      read: (a: number) => d.read(a), write: (a: number, b: Uint8Array) => d.write(a, b), close: () => d.close(),
      flush: async () => { const v = Buffer.from(await d.read(0)).subarray(0, 1).toString('hex'); await new Promise((r) => setTimeout(r, 5)); flushedValues.push(v); },
    });
    const disk = await ReplicatedDisk.open(tracking(d0), tracking(d1));
    flushedValues.length = 0;
    await disk.write(0, Buffer.alloc(4096, 1));
    const first = disk.flush();
    await disk.write(0, Buffer.alloc(4096, 2));
    await Promise.all([first, disk.flush()]);
    expect(flushedValues).toContain('02');
  });
});
