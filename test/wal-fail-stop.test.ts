import { describe, expect, it } from 'vitest';
import type { BlockDevice } from '../src/device/block-device.ts';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { DeviceFailedError } from '../src/errors.ts';
import { ReplicatedDisk } from '../src/replicated/replicated-disk.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import { formatLog } from '../src/wal/log-format.ts';

/**
 * Fail-stop through the log: once the device below has reported a DeviceFailedError (a
 * plain one, or AllDisksFailedError from a replicated pair), every later call on the log
 * rejects, including reads the in-memory overlay could still answer.
 */
const BS = 512;
const blk = (v: number) => new Uint8Array(BS).fill(v);

/** A device that is not an AbstractBlockDevice (no `failed` flag to peek at) and can be killed. */
function killable(m: MemBlockDevice): { dev: BlockDevice; kill: () => void } {
  let dead = false;
  const gate = <T>(f: () => Promise<T>) => (dead ? Promise.reject(new DeviceFailedError('gone')) : f());
  return {
    kill: () => (dead = true),
    dev: {
      blockSize: m.blockSize,
      numBlocks: m.numBlocks,
      read: (a) => gate(() => m.read(a)),
      write: (a, d) => gate(() => m.write(a, d)),
      writev: (a, bs) => gate(() => m.writev(a, bs)),
      flush: () => gate(() => m.flush()),
      close: () => m.close(),
    },
  };
}

/** A log of `logBlocks` blocks (16 data blocks) over a replicated pair of memory devices. */
async function logOnPair(logBlocks: number) {
  const m0 = new MemBlockDevice({ numBlocks: 3 + logBlocks + 16, blockSize: BS });
  const m1 = new MemBlockDevice({ numBlocks: 3 + logBlocks + 16, blockSize: BS });
  const pair = await ReplicatedDisk.open(m0, m1);
  await formatLog(pair, { logBlocks });
  const disk = await LogDisk.open(pair);
  return { m0, m1, pair, disk };
}

describe('log fail-stop', () => {
  it('rejects overlay reads, writes and transactions once both disks of the pair below have failed', async () => {
    const { m0, m1, disk } = await logOnPair(16);
    await disk.write(0, blk(1)); // committed, held in the overlay (not installed yet)
    m0.fail();
    m1.fail();
    // The pair has no disk left: the log refuses (it asks the pair before going to it).
    const err = await disk.read(5).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeviceFailedError);
    expect(err).toMatchObject({ code: 'ERR_DEVICE_FAILED' });
    // Address 0 sits in the overlay: it must not be served by a failed store.
    await expect(disk.read(0)).rejects.toMatchObject({ code: 'ERR_DEVICE_FAILED' });
    await expect(disk.transaction(async (tx) => (await tx.read(0))[0])).rejects.toMatchObject({ code: 'ERR_DEVICE_FAILED' });
    await expect(disk.write(1, blk(2))).rejects.toMatchObject({ code: 'ERR_DEVICE_FAILED' });
    await expect(disk.flush()).rejects.toMatchObject({ code: 'ERR_DEVICE_FAILED' });
    await disk.close();
  });

  it('stops serving cached and overlay blocks as soon as both mirrors of the pair below have failed', async () => {
    const { m0, m1, pair, disk } = await logOnPair(4);
    // A 4-block log forces installs, so early blocks end up in the installed-block cache.
    for (let i = 0; i < 12; i++) await disk.write(i % 3, blk(10 + i));
    expect((await disk.read(0))[0]).toBe(19);
    m0.fail();
    m1.fail();
    expect(pair.failed).toBe(true);
    // No device call has failed yet: the store must still refuse to answer from memory.
    for (const a of [0, 1, 2]) await expect(disk.read(a)).rejects.toMatchObject({ code: 'ERR_DEVICE_FAILED' });
    await disk.close();
  });

  it('rejects overlay reads after a device without a `failed` flag reported DeviceFailedError on a read', async () => {
    const m = new MemBlockDevice({ numBlocks: 3 + 16 + 16, blockSize: BS });
    await formatLog(m, { logBlocks: 16 });
    const k = killable(m);
    const disk = await LogDisk.open(k.dev);
    await disk.write(0, blk(1));
    k.kill();
    await expect(disk.read(7)).rejects.toBeInstanceOf(DeviceFailedError);
    await expect(disk.read(0)).rejects.toBeInstanceOf(DeviceFailedError);
    await disk.close();
  });
});
