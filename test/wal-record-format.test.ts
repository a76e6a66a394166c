import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { BadImageError, MismatchError, UnsupportedVersionError } from '../src/errors.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import {
  LogLayout,
  decodeSuperblock,
  encodeRecordHeader,
  encodeSuperblock,
  encodeTail,
  formatLog,
  readTail,
  writeLogBlocks,
  writeTail,
} from '../src/wal/log-format.ts';
import { LogReplay } from '../src/wal/log-replay.ts';
import { keepOpen } from './helpers/devices.ts';

/**
 * The log's record format, judged by recovery: a record is replayed only if it is whole
 * (checksum), carries the expected seq, and follows a chain of such records from the tail.
 * Records are written by hand here, byte for byte, so the tests do not depend on the writer.
 */
const BS = 512;
const LOG = 16;
const DATA = 8;

function blk(v: number): Uint8Array {
  return new Uint8Array(BS).fill(v);
}

async function freshLog() {
  const dev = new MemBlockDevice({ numBlocks: 3 + LOG + DATA, blockSize: BS });
  const layout = await formatLog(dev, { logBlocks: LOG });
  return { dev, layout };
}

/** Writes a record at log position `pos`: header then data blocks. Returns the next position. */
async function putRecord(dev: MemBlockDevice, layout: LogLayout, pos: number, seq: number, addrs: number[], vals: number[]): Promise<number> {
  const blocks = vals.map(blk);
  await writeLogBlocks(dev, layout, pos, [encodeRecordHeader(layout, pos, seq, addrs, blocks), ...blocks]);
  return pos + 1 + addrs.length;
}

async function homeValues(dev: MemBlockDevice, layout: LogLayout): Promise<number[]> {
  const out: number[] = [];
  for (let a = 0; a < DATA; a++) out.push((await dev.read(layout.dataStart + a))[0]);
  return out;
}

async function recover(dev: MemBlockDevice, layout: LogLayout): Promise<LogReplay> {
  const r = new LogReplay(dev, layout);
  await r.run();
  return r;
}

describe('log records', () => {
  it('replays a chain of whole records with consecutive seqs, in order', async () => {
    const { dev, layout } = await freshLog();
    let pos = await putRecord(dev, layout, 0, 1, [0, 1], [10, 11]);
    pos = await putRecord(dev, layout, pos, 2, [1, 2], [21, 22]);
    const r = await recover(dev, layout);
    expect(r.replayed).toBe(2);
    expect(await homeValues(dev, layout)).toEqual([10, 21, 22, 0, 0, 0, 0, 0]);
  });

  it('does not replay a torn record (a data block not what the checksum covers), nor anything after it', async () => {
    const { dev, layout } = await freshLog();
    let pos = await putRecord(dev, layout, 0, 1, [0], [10]);
    const torn = pos;
    pos = await putRecord(dev, layout, pos, 2, [1, 2], [21, 22]);
    await putRecord(dev, layout, pos, 3, [3], [33]);
    await dev.write(layout.logAddr(torn + 2), blk(99)); // second data block of record 2 torn
    const r = await recover(dev, layout);
    expect(r.replayed).toBe(1);
    expect(await homeValues(dev, layout)).toEqual([10, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('does not replay a record with a corrupt header field', async () => {
    const { dev, layout } = await freshLog();
    await putRecord(dev, layout, 0, 1, [4], [44]);
    const h = await dev.read(layout.logAddr(0));
    h[20] ^= 1; // the home address, covered by the checksum
    await dev.write(layout.logAddr(0), h);
    expect((await recover(dev, layout)).replayed).toBe(0);
    expect(await homeValues(dev, layout)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('does not replay a stale record (whole, but with a seq other than the expected one)', async () => {
    const { dev, layout } = await freshLog();
    await putRecord(dev, layout, 0, 7, [0], [70]); // from an earlier lap: seq too high for tail seq 1
    expect((await recover(dev, layout)).replayed).toBe(0);
    // And one with a lower seq than the tail expects.
    const { dev: dev2, layout: l2 } = await freshLog();
    await writeTail(dev2, l2, { pos: 0, seq: 5, slot: 1 });
    await putRecord(dev2, l2, 0, 4, [0], [40]);
    expect((await recover(dev2, l2)).replayed).toBe(0);
    expect(await homeValues(dev2, l2)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('replays a record that wraps past the end of the log', async () => {
    const { dev, layout } = await freshLog();
    await writeTail(dev, layout, { pos: LOG - 2, seq: 9, slot: 1 });
    await putRecord(dev, layout, LOG - 2, 9, [5, 6, 7], [55, 66, 77]);
    expect((await recover(dev, layout)).replayed).toBe(1);
    expect(await homeValues(dev, layout)).toEqual([0, 0, 0, 0, 0, 55, 66, 77]);
  });

  it('retires replayed records with a tail numbered past every seq the log can hold', async () => {
    const { dev, layout } = await freshLog();
    let pos = await putRecord(dev, layout, 0, 1, [0], [10]);
    pos = await putRecord(dev, layout, pos, 2, [1], [11]);
    // A record of a torn group: 3 is missing, 4 is whole. After recovery, new records are
    // written from position 4 on; none may line up with the stale record 4.
    await putRecord(dev, layout, pos + 2, 4, [2], [12]);
    await recover(dev, layout);
    const tail = await readTail(dev, layout);
    expect(tail.pos).toBe(4);
    // Last replayed seq 2, plus one, plus the log size: above any seq (< 1 + LOG) a record in it can carry.
    expect(tail.seq).toBe(2 + 1 + LOG);
    // A second run changes nothing more (idempotent) and replays nothing.
    const before = dev.snapshot();
    const again = await recover(dev, layout);
    expect(again.replayed).toBe(0);
    const after = dev.snapshot();
    for (let a = layout.dataStart; a < layout.deviceBlocks; a++) expect(after.get(a)).toEqual(before.get(a));
  });

  it('never replays a torn group\'s stale record after new commits fill the gap before it', async () => {
    const { dev, layout } = await freshLog();
    let pos = await putRecord(dev, layout, 0, 1, [0], [10]);
    pos = await putRecord(dev, layout, pos, 2, [1], [11]);
    // Record 3 was lost; record 4 (never acknowledged) is whole, two blocks further on.
    await putRecord(dev, layout, pos + 2, 4, [2], [12]);
    // Recovery, then one new one-block commit (it lands where record 3 was lost), then a crash.
    const disk = await LogDisk.open(keepOpen(dev));
    await disk.write(3, blk(13));
    const again = await LogDisk.open(keepOpen(dev));
    expect((await again.read(3))[0]).toBe(13);
    expect((await again.read(2))[0], 'the stale record 4 must not line up behind the new commit').toBe(0);
    await again.close();
  });

  it('does not replay a record moved to another log position, nor one made under another log id', async () => {
    const { dev, layout } = await freshLog();
    const blocks = [blk(10)];
    // Whole and with the expected seq, but checksummed for position 5 and found at 0.
    await writeLogBlocks(dev, layout, 0, [encodeRecordHeader(layout, 5, 1, [0], blocks), ...blocks]);
    expect((await recover(dev, layout)).replayed).toBe(0);
    // Right position, but another format's log id: a record left by an earlier use of the device.
    const { dev: dev2, layout: l2 } = await freshLog();
    const other = new LogLayout(l2, new Uint8Array(16).fill(7));
    await writeLogBlocks(dev2, l2, 0, [encodeRecordHeader(other, 0, 1, [0], blocks), ...blocks]);
    expect((await recover(dev2, l2)).replayed).toBe(0);
    expect(await homeValues(dev2, l2)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    // The same record under the right id and position is replayed (the test can fail).
    await writeLogBlocks(dev2, l2, 0, [encodeRecordHeader(l2, 0, 1 + LOG, [0], blocks), ...blocks]);
    expect((await recover(dev2, l2)).replayed).toBe(1);
  });

  it('takes the valid tail slot with the higher seq, and survives a torn tail write', async () => {
    const { dev, layout } = await freshLog();
    await writeTail(dev, layout, { pos: 3, seq: 20, slot: 1 });
    expect(await readTail(dev, layout)).toEqual({ pos: 3, seq: 20, slot: 1 });
    const torn = encodeTail({ pos: 6, seq: 30, slot: 0 }, BS);
    torn[10] ^= 0xff;
    await dev.write(1, torn);
    expect(await readTail(dev, layout)).toEqual({ pos: 3, seq: 20, slot: 1 });
  });
});

describe('log superblock', () => {
  it('reads an all-zero block 0 as no log, and refuses foreign, corrupt or other-version blocks', () => {
    expect(decodeSuperblock(new Uint8Array(BS))).toBeUndefined();
    const foreign = new Uint8Array(BS).fill(0x41);
    expect(() => decodeSuperblock(foreign)).toThrow(BadImageError);
    const id = new Uint8Array(16).map((_, i) => i + 1);
    const sb = encodeSuperblock({ blockSize: BS, logBlocks: LOG, dataBlocks: DATA, id });
    expect(decodeSuperblock(sb)).toEqual({ blockSize: BS, logBlocks: LOG, dataBlocks: DATA, id });
    const corrupt = sb.slice();
    corrupt[13] ^= 1;
    expect(() => decodeSuperblock(corrupt)).toThrow(BadImageError);
    const v2 = sb.slice();
    v2[7] = 1; // version field (1: the unsalted format); the checksum is recomputed so only the version is wrong
    new DataView(v2.buffer).setUint32(36, zlib.crc32(v2.subarray(0, 36)));
    expect(() => decodeSuperblock(v2)).toThrow(UnsupportedVersionError);
  });

  it('refuses to open an unformatted device, or one whose size differs from the superblock', async () => {
    const blank = new MemBlockDevice({ numBlocks: 40, blockSize: BS });
    await expect(LogDisk.open(blank)).rejects.toBeInstanceOf(BadImageError);
    const { dev } = await freshLog();
    const bigger = new MemBlockDevice({ numBlocks: dev.numBlocks + 1, blockSize: BS });
    for (const [a, b] of dev.snapshot()) await bigger.write(a, b);
    await expect(LogDisk.open(bigger)).rejects.toBeInstanceOf(MismatchError);
  });
});
