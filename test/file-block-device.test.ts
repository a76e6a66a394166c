import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileBlockDevice } from '../src/device/file-block-device.ts';
import { pattern, tmpDir } from './helpers/tmp.ts';

let t: ReturnType<typeof tmpDir>;
beforeEach(() => {
  t = tmpDir();
});
afterEach(async () => t.cleanup());

const file = (name = 'disk.img') => path.join(t.dir, name);

async function makeImage(name = 'disk.img', numBlocks = 8): Promise<string> {
  const dev = await FileBlockDevice.create(file(name), { numBlocks });
  await dev.write(3, pattern(4096, 3));
  await dev.flush();
  await dev.close();
  return file(name);
}

/** Opening must refuse the file and leave every byte of it as it was. */
async function expectRefused(p: string, code: string): Promise<void> {
  const before = fs.readFileSync(p);
  await expect(FileBlockDevice.open(p)).rejects.toMatchObject({ code });
  expect(fs.readFileSync(p).equals(before)).toBe(true);
}

describe('FileBlockDevice images', () => {
  it('keeps geometry and label in the header across reopen', async () => {
    const dev = await FileBlockDevice.create(file(), { numBlocks: 20, blockSize: 1024, label: { index: 1, storeId: 'ab'.repeat(16) } });
    await dev.close();
    const again = await FileBlockDevice.open(file());
    expect([again.numBlocks, again.blockSize]).toEqual([20, 1024]);
    expect(again.label).toEqual({ storeId: 'ab'.repeat(16), index: 1, epoch: 0 });
    expect(fs.statSync(file()).size).toBe(1024 + 20 * 1024);
    await again.close();
  });

  it('rewrites the label durably with setLabel', async () => {
    const dev = await FileBlockDevice.create(file(), { numBlocks: 4 });
    await dev.setLabel({ ...dev.label, epoch: 7 });
    await dev.close();
    const again = await FileBlockDevice.open(file());
    expect(again.label.epoch).toBe(7);
    await again.close();
  });

  it('refuses to create over an existing file', async () => {
    const p = await makeImage();
    const before = fs.readFileSync(p);
    await expect(FileBlockDevice.create(p, { numBlocks: 8 })).rejects.toMatchObject({ code: 'ERR_EXISTS' });
    expect(fs.readFileSync(p).equals(before)).toBe(true);
  });

  it('refuses bad geometry at create', async () => {
    for (const opts of [{ numBlocks: 0 }, { numBlocks: 1.5 }, { numBlocks: 4, blockSize: 1000 }, { numBlocks: 4, blockSize: 256 }]) {
      await expect(FileBlockDevice.create(file(), opts)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    expect(fs.existsSync(file())).toBe(false);
  });

  it('refuses a file that is not a twindisk image', async () => {
    fs.writeFileSync(file('foreign.img'), Buffer.alloc(8192, 0x41));
    await expectRefused(file('foreign.img'), 'ERR_BAD_IMAGE');
  });

  it('refuses an empty or tiny file', async () => {
    fs.writeFileSync(file('empty.img'), Buffer.alloc(0));
    await expectRefused(file('empty.img'), 'ERR_BAD_IMAGE');
    fs.writeFileSync(file('tiny.img'), Buffer.from('TWINDISK'));
    await expectRefused(file('tiny.img'), 'ERR_BAD_IMAGE');
  });

  it('refuses a truncated image', async () => {
    const p = await makeImage();
    fs.truncateSync(p, fs.statSync(p).size - 4096);
    await expectRefused(p, 'ERR_BAD_IMAGE');
  });

  it('refuses a grown image', async () => {
    const p = await makeImage();
    fs.appendFileSync(p, Buffer.alloc(4096));
    await expectRefused(p, 'ERR_BAD_IMAGE');
  });

  it('refuses a header with a flipped bit (checksum)', async () => {
    const p = await makeImage();
    const fd = fs.openSync(p, 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, 30);
    b[0] ^= 0x10;
    fs.writeSync(fd, b, 0, 1, 30);
    fs.closeSync(fd);
    await expectRefused(p, 'ERR_BAD_IMAGE');
  });

  it('refuses another format version', async () => {
    const p = await makeImage();
    const fd = fs.openSync(p, 'r+');
    const v = Buffer.alloc(4);
    v.writeUInt32LE(99);
    fs.writeSync(fd, v, 0, 4, 8);
    fs.closeSync(fd);
    await expectRefused(p, 'ERR_UNSUPPORTED_VERSION');
  });

  it('keeps block data where the header says (block 3 after a 4 KiB header)', async () => {
    const p = await makeImage();
    const raw = fs.readFileSync(p);
    expect(raw.subarray(4096 + 3 * 4096, 4096 + 4 * 4096).equals(pattern(4096, 3))).toBe(true);
  });

  it('refuses a bad label at create and at setLabel, leaving the image openable', async () => {
    for (const label of [{ index: 2 }, { epoch: -1 }, { epoch: 1.5 }, { storeId: 'xyz' }]) {
      await expect(FileBlockDevice.create(file(), { numBlocks: 4, label: label as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    expect(fs.existsSync(file())).toBe(false);
    const dev = await FileBlockDevice.create(file(), { numBlocks: 4, label: { storeId: 'AB'.repeat(16) } });
    expect(dev.label.storeId).toBe('ab'.repeat(16));
    await expect(dev.setLabel({ ...dev.label, index: 2 as 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await dev.close();
    expect((await FileBlockDevice.open(file())).label.index).toBe(0);
  });

  it('refuses a header with a valid checksum but impossible geometry', async () => {
    const p = await makeImage();
    const fd = fs.openSync(p, 'r+');
    const head = Buffer.alloc(60);
    fs.readSync(fd, head, 0, 60, 0);
    head.writeUInt32LE(100, 16); // block size 100
    head.writeUInt32LE(zlib.crc32(head.subarray(0, 56)), 56);
    fs.writeSync(fd, head, 0, 60, 0);
    fs.closeSync(fd);
    await expectRefused(p, 'ERR_BAD_IMAGE');
  });

  it('refuses writev without an array of blocks', async () => {
    const dev = await FileBlockDevice.create(file(), { numBlocks: 4 });
    await expect(dev.writev(0, null as never)).rejects.toMatchObject({ code: 'ERR_INVALID_BUFFER' });
    await dev.close();
  });

  it('refuses a second open of an image that is open, and allows it after close', async () => {
    const p = await makeImage();
    const dev = await FileBlockDevice.open(p);
    await expect(FileBlockDevice.open(p)).rejects.toMatchObject({ code: 'ERR_LOCKED' });
    await dev.close();
    expect(fs.existsSync(`${p}.lock`)).toBe(false);
    await (await FileBlockDevice.open(p)).close();
  });

  it('takes over the lock of a process that died, and leaves no lock beside a refused file', async () => {
    const p = await makeImage();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(`${p}.lock`, `${dead.stdout}\n`);
    const dev = await FileBlockDevice.open(p);
    expect(fs.readFileSync(`${p}.lock`, 'utf8').trim()).toBe(String(process.pid));
    await dev.close();
    fs.writeFileSync(file('foreign.img'), Buffer.alloc(8192, 0x41));
    await expect(FileBlockDevice.open(file('foreign.img'))).rejects.toMatchObject({ code: 'ERR_BAD_IMAGE' });
    expect(fs.existsSync(file('foreign.img.lock'))).toBe(false);
  });
});

