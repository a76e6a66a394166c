import { describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { openStore } from '../src/store/open-store.ts';
import { CrashClock, Crashed, CrashingDevice, copyOfMem as copyOf } from './helpers/devices.ts';

/**
 * openStore rebuilding a blank disk 0 from the disk 1 that holds the store (a replaced
 * disk, equal epochs): a crash at any write of that rebuild, or of the recovery after it,
 * must leave a pair that the next open still reads every block from. That needs disk 0's
 * block 0 written last: until then disk 0 reads as blank and is rebuilt again, instead of
 * being taken as the source and copied over the store.
 */
const BS = 512;
const N = 48;
const ID = 'ab'.repeat(16);
const blk = (v: number) => new Uint8Array(BS).fill(v);
const mem = () => new MemBlockDevice({ numBlocks: N, blockSize: BS });
const open = (m0: MemBlockDevice, m1: MemBlockDevice, clock: CrashClock) =>
  openStore({ devices: [new CrashingDevice(m0, clock, { storeId: ID, index: 0, epoch: 0 }), new CrashingDevice(m1, clock, { storeId: ID, index: 1, epoch: 0 })] });

describe('openStore rebuilding a blank disk 0, crashed at every write', () => {
  it('keeps every block readable whichever write the crash stops at', async () => {
    const m0 = mem();
    const m1 = mem();
    const s = await open(m0, m1, new CrashClock());
    const data = Array.from({ length: 8 }, (_, i) => i * 3 + 1);
    for (const [a, v] of data.entries()) await s.write(a, blk(v));
    await s.close();

    const full = new CrashClock();
    await (await open(mem(), await copyOf(m1), full)).close();
    const points = full.count;
    expect(points).toBeGreaterThan(2);
    for (let k = 0; k < points; k++) {
      const r0 = mem();
      const r1 = await copyOf(m1);
      await expect(open(r0, r1, new CrashClock(k)).then((st) => st.close())).rejects.toBeInstanceOf(Crashed);
      const again = await open(r0, r1, new CrashClock());
      const got: number[] = [];
      for (let a = 0; a < data.length; a++) got.push((await again.read(a))[0]);
      expect(got, `crash after ${k} of ${points} writes`).toEqual(data);
      await again.close();
    }
  });
});
