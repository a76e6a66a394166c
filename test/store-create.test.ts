import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileBlockDevice } from '../src/device/file-block-device.ts';
import { openStore } from '../src/store/open-store.ts';
import { tmpDir } from './helpers/tmp.ts';

/**
 * Creating a store in a directory: a create that dies part way never leaves a directory
 * that the same options cannot open, and a create that fails removes what it made.
 * (Regressions from the review's create.mts.)
 */
const BS = 512;
const blk = (v: number) => new Uint8Array(BS).fill(v);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0)) await c();
});
function tempDir(): string {
  const t = tmpDir('twindisk-create-');
  cleanups.push(t.cleanup);
  return path.join(t.dir, 'store');
}

describe('openStore creating a directory', () => {
  it('opens, with the options that created them, two labelled images left without a log by a killed create', async () => {
    const dir = tempDir();
    fs.mkdirSync(dir, { recursive: true });
    // What a create that sized the log as a quarter of the data (rounded up) left behind.
    const numBlocks = 101;
    const logBlocks = Math.ceil(numBlocks / 4);
    const id = 'cd'.repeat(16);
    for (const index of [0, 1] as const) {
      const d = await FileBlockDevice.create(path.join(dir, `disk${index}.img`), { numBlocks: 3 + logBlocks + numBlocks, blockSize: BS, label: { storeId: id, index } });
      await d.close();
    }
    const s = await openStore({ dir, numBlocks, blockSize: BS });
    expect(s.numBlocks).toBe(numBlocks);
    await s.write(100, blk(5));
    await s.close();
    const again = await openStore({ dir });
    expect(again.numBlocks).toBe(numBlocks);
    expect((await again.read(100))[0]).toBe(5);
    await again.close();
  });

  it('sizes the log the same way whether the store is created in a directory or on blank devices', async () => {
    for (const numBlocks of [1, 7, 101, 5000]) {
      const dir = tempDir();
      const s = await openStore({ dir, numBlocks, blockSize: BS });
      const logBlocks = s.status().log.totalBlocks;
      await s.close();
      // The same images, blank again, opened without any option: the same geometry comes out.
      const blankDir = tempDir();
      fs.mkdirSync(blankDir, { recursive: true });
      for (const index of [0, 1] as const) {
        const d = await FileBlockDevice.create(path.join(blankDir, `disk${index}.img`), { numBlocks: 3 + logBlocks + numBlocks, blockSize: BS, label: { storeId: 'ef'.repeat(16), index } });
        await d.close();
      }
      const b = await openStore({ dir: blankDir });
      expect([b.numBlocks, b.status().log.totalBlocks]).toEqual([numBlocks, logBlocks]);
      await b.close();
    }
  });

  it('leaves the directory usable when creating the second image fails, and removes what it made', async () => {
    const dir = tempDir();
    const orig = FileBlockDevice.create.bind(FileBlockDevice);
    let calls = 0;
    vi.spyOn(FileBlockDevice, 'create').mockImplementation(async (p, o) => {
      if (calls++ === 1) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      return orig(p, o);
    });
    await expect(openStore({ dir, numBlocks: 16, blockSize: BS })).rejects.toThrow(/ENOSPC/);
    vi.restoreAllMocks();
    expect(fs.existsSync(dir) ? fs.readdirSync(dir) : []).toEqual([]);
    const s = await openStore({ dir, numBlocks: 16, blockSize: BS });
    await s.write(0, blk(1));
    await s.close();
    const again = await openStore({ dir });
    expect((await again.read(0))[0]).toBe(1);
    await again.close();
  });

  it('finishes a create that died between its two renames (disk1.img next to the temporary disk 0)', async () => {
    const dir = tempDir();
    const s = await openStore({ dir, numBlocks: 8, blockSize: BS });
    await s.write(7, blk(3));
    await s.close();
    const tmp0 = path.join(dir, 'disk0.img.0123456789abcdef.tmp');
    fs.renameSync(path.join(dir, 'disk0.img'), tmp0);
    const again = await openStore({ dir });
    expect((await again.read(7))[0]).toBe(3);
    await again.close();
    expect(fs.readdirSync(dir).sort()).toEqual(['disk0.img', 'disk1.img']);
    // A temporary disk 0 of another store is not taken.
    const other = tempDir();
    const o = await openStore({ dir: other, numBlocks: 8, blockSize: BS });
    await o.close();
    fs.renameSync(path.join(dir, 'disk0.img'), tmp0);
    fs.rmSync(tmp0);
    fs.renameSync(path.join(other, 'disk0.img'), tmp0);
    await expect(openStore({ dir })).rejects.toMatchObject({ code: 'ERR_BAD_IMAGE' });
  });
});
