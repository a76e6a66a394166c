import { describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import { RECORD_MAGIC, formatLog } from '../src/wal/log-format.ts';

/**
 * User data is written raw into the log. A data block crafted to look like a record header
 * (right magic, the seq recovery will expect next, a checksum computed the way an unsalted
 * format would) must never be replayed when a later recovery starts at its position.
 * (Regression from the review's forge.mts.)
 */
const BS = 512;
const L = 8;
const blk = (v: number) => new Uint8Array(BS).fill(v);

describe('forged record headers in user data', () => {
  it('are not replayed after a clean close and reopen', async () => {
    const zlib = await import('node:zlib');
    const dev = new MemBlockDevice({ numBlocks: 3 + L + 16, blockSize: BS });
    await formatLog(dev, { logBlocks: L });
    // After the first open the seqs run from 1 + L = 9. Records: A(9)@0-1, B(10)@2-3,
    // C(11)@4-5, D(12)@6-7, E(13, two blocks)@0-2; the tail ends at position 3 with seq 14,
    // which is where B's data block sits.
    const VICTIM = 15;
    const forged = new Uint8Array(BS);
    const v = new DataView(forged.buffer);
    v.setUint32(0, RECORD_MAGIC);
    v.setUint32(4, 1);
    v.setBigUint64(8, 14n);
    v.setUint32(20, VICTIM);
    const d = await LogDisk.open(dev);
    await d.write(0, blk(0xaa));
    const fields = forged.slice(0, 24);
    v.setUint32(16, zlib.crc32(fields, 0) >>> 0);
    await d.write(1, forged);
    await d.write(2, blk(0xcc));
    await d.write(3, blk(0xdd));
    await d.transaction((tx) => {
      tx.write(4, blk(0xee));
      tx.write(5, blk(0xef));
    });
    await d.close();
    const dev2 = new MemBlockDevice({ numBlocks: 3 + L + 16, blockSize: BS });
    for (const [a, b] of dev.snapshot()) await dev2.write(a, b);
    // The strongest attacker of an unsalted format: one who predicted the block that follows
    // (C's header) and so wrote a checksum that matches it. Model that by fixing the checksum
    // in place at log position 3, where B's user block lies.
    const follower = await dev2.read(3 + 4);
    const exact = forged.slice();
    new DataView(exact.buffer).setUint32(16, 0);
    new DataView(exact.buffer).setUint32(16, zlib.crc32(follower, zlib.crc32(exact.subarray(0, 24), 0)) >>> 0);
    await dev2.write(3 + 3, exact);
    const reopened = await LogDisk.open(dev2);
    expect([...(await reopened.read(VICTIM)).subarray(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect([(await reopened.read(1))[0], (await reopened.read(4))[0], (await reopened.read(5))[0]]).toEqual([forged[0], 0xee, 0xef]);
    await reopened.close();
  });
});
