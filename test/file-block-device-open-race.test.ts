import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileBlockDevice } from '../src/device/file-block-device.ts';
import { encodeHeader, headerSizeFor } from '../src/device/image-header.ts';
import { tmpDir } from './helpers/tmp.ts';

/**
 * FileBlockDevice.open reads the header before it takes the image lock (so that a foreign
 * file gets no lock file beside it). The holder it raced may rewrite the label in between
 * (an epoch raised on a failure, then close): the device must carry the label that is on
 * disk once the lock is held, or the pair's recovery could take the wrong disk as source.
 */
const hook = vi.hoisted(() => ({ beforeLock: undefined as (() => void) | undefined }));
vi.mock('../src/device/image-lock.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/device/image-lock.ts')>();
  return {
    ...real,
    lockImage: (p: string) => {
      const h = hook.beforeLock;
      hook.beforeLock = undefined;
      h?.();
      return real.lockImage(p);
    },
  };
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  hook.beforeLock = undefined;
  for (const c of cleanups.splice(0)) await c();
});

describe('FileBlockDevice.open and a label rewritten before the lock is taken', () => {
  it('carries the label on disk under the lock, not the one read before it', async () => {
    const t = tmpDir();
    cleanups.push(t.cleanup);
    const file = path.join(t.dir, 'disk.img');
    const storeId = 'ab'.repeat(16);
    const dev = await FileBlockDevice.create(file, { numBlocks: 4, blockSize: 512, label: { storeId, index: 0, epoch: 2 } });
    await dev.close();
    let rewritten = false;
    hook.beforeLock = () => {
      // What the previous holder's setLabel leaves: the same header with epoch 5.
      const bytes = encodeHeader({ blockSize: 512, numBlocks: 4, headerSize: headerSizeFor(512), label: { storeId, index: 0, epoch: 5 } });
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, bytes, 0, 512, 0);
      fs.closeSync(fd);
      rewritten = true;
    };
    const again = await FileBlockDevice.open(file);
    expect(rewritten).toBe(true);
    expect(again.label).toEqual({ storeId, index: 0, epoch: 5 });
    await again.close();
  });
});
