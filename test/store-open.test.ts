import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileBlockDevice } from '../src/device/file-block-device.ts';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { openStore } from '../src/store/open-store.ts';
import { tmpDir } from './helpers/tmp.ts';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { keepOpen } from './helpers/devices.ts';

/**
 * openStore over a directory of two image files and over caller-given devices: create,
 * reopen with the data there, refuse mismatched geometry and foreign images without
 * touching them, and typed errors for bad input.
 */
const BS = 512;
const blk = (v: number) => new Uint8Array(BS).fill(v);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
function tempDir(): string {
  const t = tmpDir('twindisk-store-');
  cleanups.push(t.cleanup);
  return path.join(t.dir, 'store');
}

function digest(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const f of ['disk0.img', 'disk1.img']) h.update(fs.readFileSync(path.join(dir, f)));
  return h.digest('hex');
}

describe('openStore on files', () => {
  it('creates the directory and two images, and reopens them with every committed block', async () => {
    const dir = tempDir();
    const store = await openStore({ dir, numBlocks: 32, blockSize: BS, logBlocks: 16 });
    expect(fs.existsSync(path.join(dir, 'disk0.img')) && fs.existsSync(path.join(dir, 'disk1.img'))).toBe(true);
    await store.write(0, blk(1));
    await store.transaction((tx) => {
      tx.write(31, blk(2));
      tx.write(5, blk(3));
    });
    expect(store.status()).toMatchObject({
      disks: [
        { index: 0, state: 'ok' },
        { index: 1, state: 'ok' },
      ],
      degraded: false,
      dataBlocks: 32,
      blockSize: BS,
      log: { totalBlocks: 16 },
    });
    await store.close();
    // The two images belong to one store.
    const [d0, d1] = [await FileBlockDevice.open(path.join(dir, 'disk0.img')), await FileBlockDevice.open(path.join(dir, 'disk1.img'))];
    expect(d0.label.storeId).toBe(d1.label.storeId);
    expect([d0.label.index, d1.label.index]).toEqual([0, 1]);
    await d0.close();
    await d1.close();

    const again = await openStore({ dir });
    expect(again.numBlocks).toBe(32);
    expect([(await again.read(0))[0], (await again.read(31))[0], (await again.read(5))[0], (await again.read(6))[0]]).toEqual([1, 2, 3, 0]);
    await again.close();
  });

  it('recovers committed transactions that were never installed (no close before reopen)', async () => {
    const dir = tempDir();
    // A child process writes and exits without close(): the files keep what was flushed,
    // the log is not installed, and the image locks it leaves behind are stale.
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./helpers/store-writer-child.ts', import.meta.url)), dir, String(BS)], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    const again = await openStore({ dir, numBlocks: 16 });
    for (let i = 0; i < 10; i++) expect((await again.read(i))[0]).toBe(i + 1);
    await again.close();
  });

  it('refuses geometry that differs from the disk with ERR_MISMATCH and changes nothing', async () => {
    const dir = tempDir();
    const store = await openStore({ dir, numBlocks: 16, blockSize: BS, logBlocks: 8 });
    await store.write(3, blk(7));
    await store.close();
    const before = digest(dir);
    for (const bad of [{ numBlocks: 17 }, { logBlocks: 9 }, { blockSize: 1024 }]) {
      await expect(openStore({ dir, ...bad })).rejects.toMatchObject({ code: 'ERR_MISMATCH' });
    }
    expect(digest(dir)).toBe(before);
    const again = await openStore({ dir, numBlocks: 16, logBlocks: 8, blockSize: BS });
    expect((await again.read(3))[0]).toBe(7);
    await again.close();
  });

  it('refuses a directory with only one image, and asks for numBlocks to create', async () => {
    const dir = tempDir();
    await expect(openStore({ dir })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const store = await openStore({ dir, numBlocks: 8, blockSize: BS, logBlocks: 4 });
    await store.close();
    fs.rmSync(path.join(dir, 'disk1.img'));
    await expect(openStore({ dir })).rejects.toMatchObject({ code: 'ERR_BAD_IMAGE' });
  });

  it('gives typed errors for bad input and after close', async () => {
    const dir = tempDir();
    const store = await openStore({ dir, numBlocks: 8, blockSize: BS, logBlocks: 4 });
    await expect(store.write(8, blk(1))).rejects.toMatchObject({ code: 'ERR_INVALID_ADDRESS' });
    await expect(store.write(0, new Uint8Array(4096))).rejects.toMatchObject({ code: 'ERR_INVALID_BUFFER' });
    await expect(store.read(0.5)).rejects.toMatchObject({ code: 'ERR_INVALID_ADDRESS' });
    await store.close();
    await expect(store.transaction(() => undefined)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(store.read(0)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(openStore({ dir, devices: [new MemBlockDevice({ numBlocks: 20 }), new MemBlockDevice({ numBlocks: 20 })] })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });
});

describe('openStore on caller-given devices', () => {
  const pair = (n: number) => [new MemBlockDevice({ numBlocks: n, blockSize: BS }), new MemBlockDevice({ numBlocks: n, blockSize: BS })] as const;

  it('formats devices whose block 0 is empty, then reopens them', async () => {
    const [m0, m1] = pair(40);
    const store = await openStore({ devices: [keepOpen(m0), keepOpen(m1)], logBlocks: 8 });
    expect(store.numBlocks).toBe(40 - 3 - 8);
    await store.write(2, blk(9));
    await store.close();
    const again = await openStore({ devices: [keepOpen(m0), keepOpen(m1)], numBlocks: 29 });
    expect((await again.read(2))[0]).toBe(9);
    await again.close();
  });

  it('refuses a foreign image with ERR_BAD_IMAGE and leaves it untouched', async () => {
    const [m0, m1] = pair(40);
    await m0.write(0, blk(0x41));
    await m0.write(7, blk(0x42));
    const before = [m0.snapshot(), m1.snapshot()];
    await expect(openStore({ devices: [m0, m1] })).rejects.toMatchObject({ code: 'ERR_BAD_IMAGE' });
    expect([m0.snapshot(), m1.snapshot()]).toEqual(before);
  });

  it('refuses options that do not fit the devices with ERR_MISMATCH', async () => {
    const [m0, m1] = pair(40);
    await expect(openStore({ devices: [m0, m1], logBlocks: 8, numBlocks: 30 })).rejects.toMatchObject({ code: 'ERR_MISMATCH' });
    expect(m0.snapshot().size).toBe(0);
  });

  it('refuses a store another live opener holds with ERR_LOCKED, and opens it once released', async () => {
    const dir = tempDir();
    const first = await openStore({ dir, numBlocks: 16, blockSize: BS, logBlocks: 8 });
    await expect(openStore({ dir })).rejects.toMatchObject({ code: 'ERR_LOCKED' });
    await first.write(1, blk(5));
    await first.close();
    const again = await openStore({ dir });
    expect((await again.read(1))[0]).toBe(5);
    await again.close();
  });
});
