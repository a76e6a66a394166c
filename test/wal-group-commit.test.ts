import { describe, expect, it } from 'vitest';
import type { BlockDevice } from '../src/device/block-device.ts';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import { formatLog } from '../src/wal/log-format.ts';

/**
 * Group commit: transactions that commit at the same time share log writes and one flush.
 * The device counts calls; a flush takes a few turns of the event loop, as a real one
 * takes time, so that commits arriving meanwhile queue up behind it.
 */
const BS = 512;

class CountingDevice implements BlockDevice {
  readonly blockSize: number;
  readonly numBlocks: number;
  writes = 0;
  writevs = 0;
  blocks = 0;
  readonly trace: string[] = [];
  flushes = 0;
  constructor(readonly inner: MemBlockDevice, readonly flushTurns = 0) {
    this.blockSize = inner.blockSize;
    this.numBlocks = inner.numBlocks;
  }
  read(a: number) {
    return this.inner.read(a);
  }
  async write(a: number, d: Uint8Array) {
    this.writes++;
    this.blocks++;
    return this.inner.write(a, d);
  }
  async writev(a: number, bs: readonly Uint8Array[]) {
    this.writevs++;
    this.blocks += bs.length;
    this.trace.push('writev');
    return this.inner.writev(a, bs);
  }
  async flush() {
    this.flushes++;
    this.trace.push('flush');
    for (let i = 0; i < this.flushTurns; i++) await new Promise<void>((r) => setImmediate(r));
    await this.inner.flush();
    this.trace.push('flushed');
  }
  /** Leaves the memory behind open, so a test can reopen the log on it. */
  async close() {}
  reset() {
    this.writes = this.writevs = this.flushes = this.blocks = 0;
    this.trace.length = 0;
  }
}

async function setup(logBlocks: number, flushTurns = 0) {
  const mem = new MemBlockDevice({ numBlocks: 3 + logBlocks + 64, blockSize: BS });
  await formatLog(mem, { logBlocks });
  const dev = new CountingDevice(mem, flushTurns);
  const disk = await LogDisk.open(dev);
  dev.reset();
  return { dev, disk };
}

const blk = (v: number) => new Uint8Array(BS).fill(v);

describe('group commit', () => {
  it('16 concurrent one-block commits share one log write and one flush', async () => {
    const { dev, disk } = await setup(256);
    await Promise.all(Array.from({ length: 16 }, (_, i) => disk.write(i, blk(i + 1))));
    expect(dev.flushes).toBe(1);
    expect(dev.writevs + dev.writes).toBe(1);
    // One record for the whole group: one header and the 16 data blocks.
    expect(dev.blocks).toBe(17);
    expect(disk.stats.groups).toBe(1);
    expect(disk.stats.records).toBe(1);
    for (let i = 0; i < 16; i++) expect((await disk.read(i))[0]).toBe(i + 1);
    await disk.close();
  });

  it('16 concurrent transactions that arrive while a flush runs need a few flushes, not 16', async () => {
    const { dev, disk } = await setup(256, 3);
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        disk.transaction(async (tx) => {
          await tx.read(32 + i);
          tx.write(i, blk(i + 1));
          tx.write(32 + i, blk(i + 101));
        }),
      ),
    );
    expect(dev.flushes).toBeLessThanOrEqual(3);
    expect(disk.stats.transactions).toBe(16);
    expect(disk.stats.groups).toBe(dev.flushes);
    expect(disk.stats.records).toBe(disk.stats.groups);
    for (let i = 0; i < 16; i++) {
      expect((await disk.read(i))[0]).toBe(i + 1);
      expect((await disk.read(32 + i))[0]).toBe(i + 101);
    }
    await disk.close();
  });

  it('a group that wraps the log is written in two calls, not one per block', async () => {
    const { dev, disk } = await setup(80);
    // 45 blocks used, then installed: the next group starts at position 45 of 80.
    await disk.transaction((tx) => {
      for (let a = 0; a < 44; a++) tx.write(a, blk(1));
    });
    await disk.close();
    const again = await LogDisk.open(dev);
    dev.reset();
    // 12 transactions of 3 blocks in one record = 37 blocks from position 45: wraps once,
    // stays under the install threshold.
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        again.transaction((tx) => {
          for (let j = 0; j < 3; j++) tx.write(3 * i + j, blk(i + 10));
        }),
      ),
    );
    expect(dev.flushes).toBe(1);
    expect(dev.writevs + dev.writes).toBe(2);
    expect(dev.blocks).toBe(37);
    for (let i = 0; i < 36; i++) expect((await again.read(i))[0]).toBe(Math.floor(i / 3) + 10);
    await again.close();
  });

  it('packs a group into as many records as header capacity needs, never splitting a transaction', async () => {
    const { dev, disk } = await setup(512); // large enough that no install starts
    // 512-byte blocks: a header holds 123 addresses. 16 transactions of 10 blocks: 12 fit
    // in the first record (120), the other 4 open a second.
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        disk.transaction((tx) => {
          for (let j = 0; j < 10; j++) tx.write((i * 3 + j) % 64, blk(i + 1));
        }),
      ),
    );
    expect(disk.stats.groups).toBe(1);
    expect(disk.stats.records).toBe(2);
    expect(dev.blocks).toBe(2 + 160);
    // Overlapping blind writes: the later transaction in the log wins, before and after
    // reopening (close installs; test/wal-pipeline.test.ts checks a real replay).
    const want = new Map<number, number>();
    for (let i = 0; i < 16; i++) for (let j = 0; j < 10; j++) want.set((i * 3 + j) % 64, i + 1);
    for (const [a, v] of want) expect((await disk.read(a))[0]).toBe(v);
    await disk.close();
    const again = await LogDisk.open(dev);
    for (const [a, v] of want) expect((await again.read(a))[0]).toBe(v);
    await again.close();
  });

  it('appends the next group while the previous group flushes, and acknowledges in log order', async () => {
    const { dev, disk } = await setup(256, 3);
    const acked: number[] = [];
    const first = Array.from({ length: 4 }, (_, i) => disk.write(i, blk(i + 1)).then(() => acked.push(i)));
    // Arrive once the first group's flush has started.
    await new Promise<void>((r) => setImmediate(r));
    const second = Array.from({ length: 4 }, (_, i) => disk.write(8 + i, blk(i + 9)).then(() => acked.push(8 + i)));
    await Promise.all([...first, ...second]);
    expect(dev.trace.slice(0, 4)).toEqual(['writev', 'flush', 'writev', 'flush']);
    expect(acked).toEqual([0, 1, 2, 3, 8, 9, 10, 11]);
    expect(disk.stats.groups).toBe(2);
    expect(disk.stats.pipelined).toBe(1);
    await disk.close();
  });

  it('starts installing late: when the free log falls to eight groups, not at half full', async () => {
    const mem = new MemBlockDevice({ numBlocks: 3 + 1024 + 64, blockSize: BS });
    await formatLog(mem, { logBlocks: 1024 });
    const disk = await LogDisk.open(mem);
    // One-block commits one after another: groups of 2 log blocks, so the floor of an
    // eighth of the log (128 blocks) is the headroom: no install before 896 blocks are used.
    for (let i = 0; i < 440; i++) await disk.write(i % 64, blk(i & 0xff));
    expect(disk.stats.installs).toBe(0);
    expect(disk.status().log.usedBlocks).toBe(880);
    for (let i = 440; i < 460; i++) await disk.write(i % 64, blk(i & 0xff));
    await disk.flush();
    await new Promise<void>((r) => setImmediate(r));
    expect(disk.stats.installs).toBeGreaterThanOrEqual(1);
    for (let a = 0; a < 64; a++) {
      const last = 459 - ((459 - a) % 64); // the last i < 460 with i % 64 === a
      expect((await disk.read(a))[0]).toBe(last & 0xff);
    }
    await disk.close();
  });
});

