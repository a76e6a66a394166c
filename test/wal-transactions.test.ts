import { describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import { formatLog } from '../src/wal/log-format.ts';

/**
 * Transactions one by one and under pressure: back-pressure on a tiny log, the size limit,
 * empty and failing transactions, read-your-writes, and typed errors that change nothing.
 */
const BS = 512;
const blk = (v: number) => new Uint8Array(BS).fill(v);

async function setup(logBlocks: number, dataBlocks = 32) {
  const mem = new MemBlockDevice({ numBlocks: 3 + logBlocks + dataBlocks, blockSize: BS });
  await formatLog(mem, { logBlocks });
  let writes = 0;
  const orig = mem.write.bind(mem);
  const origv = mem.writev.bind(mem);
  mem.write = (a, d) => (writes++, orig(a, d));
  mem.writev = (a, bs) => (writes++, origv(a, bs));
  const disk = await LogDisk.open(mem);
  return { mem, disk, writes: () => writes };
}

async function values(disk: LogDisk, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let a = 0; a < n; a++) out.push((await disk.read(a))[0]);
  return out;
}

describe('transactions', () => {
  it('commits wait for installation when the log is full, and none fails (back-pressure)', async () => {
    const { disk } = await setup(4); // room for one 3-block record, or two 1-block ones
    const maxUsed: number[] = [];
    const commits = Array.from({ length: 40 }, (_, i) =>
      disk
        .transaction((tx) => {
          tx.write(i % 16, blk(i + 1));
          if (i % 3 === 0) tx.write(16 + (i % 8), blk(i + 1));
        })
        .then(() => maxUsed.push(disk.status().log.usedBlocks)),
    );
    await Promise.all(commits);
    expect(Math.max(...maxUsed)).toBeLessThanOrEqual(4);
    expect(disk.stats.installs).toBeGreaterThan(5);
    // The last writer of each address, in commit order, is what stays.
    const want = new Array(24).fill(0);
    for (let i = 0; i < 40; i++) {
      want[i % 16] = i + 1;
      if (i % 3 === 0) want[16 + (i % 8)] = i + 1;
    }
    expect(await values(disk, 24)).toEqual(want);
    await disk.close();
  });

  it('refuses a transaction larger than the log can ever hold before writing anything', async () => {
    const { disk, writes } = await setup(4);
    expect(disk.maxTransactionBlocks).toBe(3);
    const before = writes();
    await expect(disk.transaction((tx) => [0, 1, 2, 3].forEach((a) => tx.write(a, blk(9))))).rejects.toMatchObject({ code: 'ERR_TX_TOO_LARGE' });
    expect(writes()).toBe(before);
    expect(await values(disk, 4)).toEqual([0, 0, 0, 0]);
    // Three blocks fit.
    await disk.transaction((tx) => [0, 1, 2].forEach((a) => tx.write(a, blk(9))));
    expect(await values(disk, 4)).toEqual([9, 9, 9, 0]);
    await disk.close();
  });

  it('writes nothing for an empty transaction or one whose function throws', async () => {
    const { disk, writes } = await setup(8);
    const before = writes();
    expect(await disk.transaction(async (tx) => (await tx.read(0))[0])).toBe(0);
    const boom = new Error('boom');
    await expect(
      disk.transaction((tx) => {
        tx.write(1, blk(5));
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(writes()).toBe(before);
    expect(await values(disk, 2)).toEqual([0, 0]);
    await disk.close();
  });

  it('sees its own writes, and others see them only once committed', async () => {
    const { disk } = await setup(16);
    await disk.write(3, blk(1));
    let inside = -1;
    let outsideDuring = -1;
    await disk.transaction(async (tx) => {
      tx.write(3, blk(2));
      inside = (await tx.read(3))[0];
      outsideDuring = (await disk.read(3))[0];
    });
    expect(inside).toBe(2);
    expect(outsideDuring).toBe(1);
    expect((await disk.read(3))[0]).toBe(2);
    await disk.close();
  });

  it('runs a conflicting transaction again, and never loses an update', async () => {
    const { disk } = await setup(16);
    let runs = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        disk.transaction(async (tx) => {
          runs++;
          const v = (await tx.read(0))[0];
          tx.write(0, blk(v + 1));
        }),
      ),
    );
    expect((await disk.read(0))[0]).toBe(10);
    expect(runs).toBeGreaterThan(10);
    await disk.close();
  });

  it('refuses bad input with typed errors and changes nothing', async () => {
    const { disk, writes } = await setup(8, 16);
    const before = writes();
    await expect(disk.write(16, blk(1))).rejects.toMatchObject({ code: 'ERR_INVALID_ADDRESS' });
    await expect(disk.write(-1, blk(1))).rejects.toMatchObject({ code: 'ERR_INVALID_ADDRESS' });
    await expect(disk.read(16)).rejects.toMatchObject({ code: 'ERR_INVALID_ADDRESS' });
    await expect(disk.write(0, new Uint8Array(BS - 1))).rejects.toMatchObject({ code: 'ERR_INVALID_BUFFER' });
    await expect(disk.transaction((tx) => tx.write(99, blk(1)))).rejects.toMatchObject({ code: 'ERR_INVALID_ADDRESS' });
    await expect(disk.transaction((tx) => tx.write(0, new Uint8Array(3)))).rejects.toMatchObject({ code: 'ERR_INVALID_BUFFER' });
    expect(writes()).toBe(before);
    await disk.close();
    await expect(disk.transaction(() => undefined)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(disk.read(0)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(disk.write(0, blk(1))).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  it('close() drains queued commits and installs everything, so the log is empty on disk', async () => {
    const { mem, disk } = await setup(64);
    const commits = Array.from({ length: 20 }, (_, i) => disk.write(i, blk(i + 1)));
    await disk.close();
    await Promise.all(commits);
    // Read the data region directly: every block is home, nothing depends on the log.
    const image = mem.snapshot();
    for (let i = 0; i < 20; i++) expect(image.get(3 + 64 + i)?.[0]).toBe(i + 1);
  });

  it('reports log usage and geometry in status()', async () => {
    const { disk } = await setup(64, 20);
    await disk.write(0, blk(1));
    const s = disk.status();
    expect(s).toMatchObject({ disks: [], degraded: false, dataBlocks: 20, blockSize: BS, log: { totalBlocks: 64 } });
    expect(s.log.usedBlocks).toBe(2);
    await disk.close();
  });
});
