import { describe, expect, it } from 'vitest';
import type { BlockDevice } from '../src/device/block-device.ts';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { DeviceFailedError } from '../src/errors.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import { formatLog } from '../src/wal/log-format.ts';
import { keepOpen } from './helpers/devices.ts';

/**
 * A device whose flush() throws synchronously instead of returning a rejected promise
 * (a plain-object device, or a driver that validates its state before going async).
 * Before the pipeline (759d61a) the commit flush was awaited inside the append's try, so
 * the group's committers were rejected; the pipeline first called flushLog() outside any
 * try, and a throw there left the group, already off the queue, waiting forever.
 */
const BS = 512;
const blk = (v: number) => new Uint8Array(BS).fill(v);

describe('a commit flush that throws synchronously', () => {
  it('rejects the group instead of leaving its committers waiting forever', async () => {
    const mem = new MemBlockDevice({ numBlocks: 3 + 16 + 16, blockSize: BS });
    await formatLog(mem, { logBlocks: 16 });
    let dead = false;
    // mem's calls, with a flush that throws once `dead` and a close that does close mem.
    const dev: BlockDevice = {
      ...keepOpen(mem),
      flush: () => {
        if (dead) throw new DeviceFailedError('gone');
        return mem.flush();
      },
      close: () => mem.close(),
    };
    const disk = await LogDisk.open(dev);
    dead = true;
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const w = disk.write(0, blk(1)).then(
        () => 'resolved',
        (e: unknown) => (e as { code?: string }).code ?? 'rejected',
      );
      const outcome = await Promise.race([w, new Promise((r) => setTimeout(() => r('still waiting after 300 ms'), 300))]);
      expect(outcome).toBe('ERR_DEVICE_FAILED');
      // flush() waits on the same commit.
      const f = disk.flush().then(
        () => 'resolved',
        (e: unknown) => (e as { code?: string }).code ?? 'rejected',
      );
      expect(await Promise.race([f, new Promise((r) => setTimeout(() => r('still waiting after 300 ms'), 300))])).toBe('ERR_DEVICE_FAILED');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
