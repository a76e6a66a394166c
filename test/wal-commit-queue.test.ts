import { describe, expect, it } from 'vitest';
import type { BlockDevice } from '../src/device/block-device.ts';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import { formatLog } from '../src/wal/log-format.ts';
import { keepOpen } from './helpers/devices.ts';

/**
 * The commit queue's edges: a commit enqueued at any microtask around the moment the writer
 * loop drains is still written; the per-address version table stays bounded while
 * transactions never stop running; a non-function transaction is a typed error.
 */
const BS = 512;
const blk = (v: number) => new Uint8Array(BS).fill(v);
const macrotask = () => new Promise<void>((r) => setImmediate(r));

async function hops(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await null;
}

describe('commit queue', () => {
  it('writes a commit enqueued at any microtask after the last group append or flush (no gap while the writer stops)', async () => {
    // The pipelined writer stops right after its last append (it does not wait for the
    // flush), so the window where it clears itself follows the append; a commit's own
    // return follows the flush. A late commit is enqueued k microtasks after either.
    for (const after of ['append', 'flush'] as const) {
      for (let k = 0; k < 24; k++) {
        const m = new MemBlockDevice({ numBlocks: 3 + 16 + 8, blockSize: BS });
        await formatLog(m, { logBlocks: 16 });
        let armed = false;
        let late: Promise<void> | undefined;
        let disk!: LogDisk;
        const lateCommit = (when: typeof after) => {
          if (!armed || when !== after) return;
          armed = false;
          void hops(k).then(() => {
            late = disk.write(1, blk(2));
          });
        };
        // m's calls, with hooks that enqueue the late commit and a close that does close m.
        const dev: BlockDevice = {
          ...keepOpen(m),
          writev: async (a, bs) => {
            await m.writev(a, bs);
            lateCommit('append');
          },
          flush: async () => {
            await m.flush();
            lateCommit('flush');
          },
          close: () => m.close(),
        };
        disk = await LogDisk.open(dev);
        armed = true;
        await disk.write(0, blk(1));
        for (let i = 0; i < 3 && !late; i++) await macrotask();
        expect(late, `${after}, k=${k}`).toBeDefined();
        let settled = false;
        void late!.then(() => (settled = true));
        // Memory devices resolve in microtasks: a commit still pending after two macrotasks is stranded.
        await macrotask();
        await macrotask();
        expect(settled, `commit enqueued ${k} microtasks after the ${after}`).toBe(true);
        expect((await disk.read(1))[0]).toBe(2);
        await disk.close();
      }
    }
  });

  it('keeps the version table bounded while some transaction is always running, and still sees conflicts', async () => {
    const m = new MemBlockDevice({ numBlocks: 3 + 16 + 600, blockSize: BS });
    await formatLog(m, { logBlocks: 16 });
    const disk = await LogDisk.open(m);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    // A long transaction that read address 599 (never written before) and then waits.
    const long = disk.transaction(async (tx) => {
      runs++;
      const v = (await tx.read(599))[0];
      if (runs === 1) await gate;
      tx.write(598, blk(v + 1));
    });
    await hops(5);
    // Many single-block commits to distinct addresses, with installs in between.
    for (let a = 0; a < 500; a++) await disk.write(a, blk(1));
    await disk.write(599, blk(40)); // conflicts with what the long transaction read
    for (let a = 0; a < 40; a++) await disk.write(a, blk(2));
    expect(disk.stats.installs).toBeGreaterThan(10);
    expect(disk.trackedVersions).toBeLessThanOrEqual(16);
    release();
    await long;
    expect(runs).toBeGreaterThanOrEqual(2); // the conflict on 599 was seen, so it ran again (an install may add a false one)
    expect((await disk.read(598))[0]).toBe(41);
    await disk.close();
  });

  it('refuses a transaction that is not a function with ERR_INVALID_ARGUMENT', async () => {
    const m = new MemBlockDevice({ numBlocks: 3 + 16 + 8, blockSize: BS });
    await formatLog(m, { logBlocks: 16 });
    const disk = await LogDisk.open(m);
    for (const bad of [undefined, 42, 'tx', {}]) {
      await expect(disk.transaction(bad as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    await disk.close();
  });
});
