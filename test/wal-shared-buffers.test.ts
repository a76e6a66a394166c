import { describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { BlockAllocator } from '../src/wal/block-allocator.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import { formatLog } from '../src/wal/log-format.ts';

/**
 * The copy-free paths (Transaction.readShared / writeOwned) and the clean cache of
 * installed blocks: what readers see is the committed value, before and after install,
 * and copies are still made where the caller owns the result.
 */
const BS = 512;
const blk = (v: number) => new Uint8Array(BS).fill(v);

async function setup(logBlocks = 8, dataBlocks = 16) {
  const mem = new MemBlockDevice({ numBlocks: 3 + logBlocks + dataBlocks, blockSize: BS });
  await formatLog(mem, { logBlocks });
  let reads = 0;
  const orig = mem.read.bind(mem);
  mem.read = (a) => (reads++, orig(a));
  const disk = await LogDisk.open(mem);
  return { mem, disk, reads: () => reads };
}

describe('shared buffers', () => {
  it('readShared sees own writes and committed data; read() returns a copy the store does not see changed', async () => {
    const { disk } = await setup();
    await disk.transaction((tx) => tx.writeOwned(3, blk(7)));
    const mine = await disk.transaction(async (tx) => {
      tx.writeOwned(4, blk(9));
      return [(await tx.readShared(3))[0], (await tx.readShared(4))[0]];
    });
    expect(mine).toEqual([7, 9]);
    const copy = await disk.transaction((tx) => tx.read(3));
    copy.fill(1);
    const again = await disk.read(3);
    again.fill(2);
    expect((await disk.transaction((tx) => tx.readShared(3)))[0]).toBe(7);
  });

  it('installed blocks are served from memory with their committed value, and a newer commit wins over them', async () => {
    const { disk, reads } = await setup(4);
    // A 4-block log fills after two 1-block commits: back-pressure forces installs.
    for (let i = 1; i <= 12; i++) await disk.write(i % 3, blk(i));
    const before = reads();
    const got = await disk.transaction(async (tx) => [0, 1, 2].map(async (a) => (await tx.readShared(a))[0]));
    expect(await Promise.all(got)).toEqual([12, 10, 11]);
    expect(reads()).toBe(before);
    await disk.write(0, blk(42));
    expect((await disk.read(0))[0]).toBe(42);
    // Never written: read from the device.
    expect((await disk.read(9))[0]).toBe(0);
    expect(reads()).toBe(before + 1);
  });

  it('a cached block is not served once the device has failed (fail-stop covers memory hits)', async () => {
    const { mem, disk } = await setup(4);
    for (let i = 1; i <= 6; i++) await disk.write(0, blk(i));
    mem.fail();
    await expect(disk.transaction((tx) => tx.readShared(0))).rejects.toMatchObject({ code: 'ERR_DEVICE_FAILED' });
    await expect(disk.read(0)).rejects.toThrow();
  });

  it('writeOwned validates like write', async () => {
    const { disk } = await setup();
    await expect(disk.transaction((tx) => tx.writeOwned(99, blk(1)))).rejects.toMatchObject({ code: 'ERR_INVALID_ADDRESS' });
    await expect(disk.transaction((tx) => tx.writeOwned(0, new Uint8Array(3)))).rejects.toMatchObject({ code: 'ERR_INVALID_BUFFER' });
  });

  it('read() and Transaction.read() return a whole ArrayBuffer, even where the log holds slab views', async () => {
    const { disk } = await setup();
    await disk.write(2, blk(5));
    await disk.transaction((tx) => tx.write(3, blk(6)));
    for (const b of [await disk.read(2), await disk.transaction((tx) => tx.read(3))]) {
      expect(b.byteOffset).toBe(0);
      expect(b.buffer.byteLength).toBe(BS);
    }
  });
});

describe('block allocator', () => {
  it('hands out zeroed blocks that never alias, across slabs', () => {
    const a = new BlockAllocator(64);
    const blocks = Array.from({ length: 40 }, () => a.alloc());
    blocks.forEach((b, i) => {
      expect(b.length).toBe(64);
      expect(b.every((x) => x === 0)).toBe(true);
      b.fill(i + 1);
    });
    blocks.forEach((b, i) => expect(b.every((x) => x === i + 1)).toBe(true));
    const src = new Uint8Array(64).fill(9);
    const c = a.copy(src);
    src.fill(1);
    expect(c.every((x) => x === 9)).toBe(true);
  });
});
