import { describe, expect, it } from 'vitest';
import type { BlockDevice } from '../src/device/block-device.ts';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import { formatLog } from '../src/wal/log-format.ts';
import { keepOpen } from './helpers/devices.ts';

/**
 * The two tail slots: every tail write (an install's, or recovery's retire) goes to the
 * slot that does NOT hold the current tail, so that a write torn by a power cut leaves the
 * current tail readable. If a write went to the current tail's slot, a tear there would
 * leave only the other slot, holding an older tail whose records may still lie in the log:
 * recovery would replay them over newer installed blocks. Each case below leaves such an
 * older tail behind with its record intact, tears one tail write, and checks that the
 * next recovery still finds the last acknowledged value.
 */
const BS = 512;
const blk = (v: number) => new Uint8Array(BS).fill(v);

class PowerCut extends Error {}

/**
 * Passes every call to `m` until the `n`-th write to a tail slot (block 1 or 2): that
 * block is left torn, the new pointer's first 12 bytes over the rest of the old block (the
 * pointer fills 20 bytes, so a tear at a 512-byte sector boundary would leave it whole: the
 * second slot is for tears finer than a sector and for a slot that reads back as garbage),
 * and from then on every call fails, as when the power goes out in the middle of a write.
 */
function tearingTailWrite(m: MemBlockDevice, n: number): BlockDevice & { tornAt: () => number | undefined } {
  let tailWrites = 0;
  let torn: number | undefined;
  const live = <T>(f: () => Promise<T>) => (torn === undefined ? f() : Promise.reject(new PowerCut('power cut')));
  return {
    blockSize: m.blockSize,
    numBlocks: m.numBlocks,
    tornAt: () => torn,
    read: (a) => live(() => m.read(a)),
    write: (a, d) =>
      live(async () => {
        if ((a === 1 || a === 2) && ++tailWrites === n) {
          const old = await m.read(a);
          const mix = old.slice();
          mix.set(d.subarray(0, 12));
          await m.write(a, mix);
          torn = a;
          throw new PowerCut(`power cut while writing tail slot block ${a}`);
        }
        return m.write(a, d);
      }),
    writev: (a, bs) => live(() => m.writev(a, bs)),
    flush: () => live(() => m.flush()),
    close: async () => {},
  };
}

async function formatted(): Promise<MemBlockDevice> {
  const m = new MemBlockDevice({ numBlocks: 3 + 16 + 8, blockSize: BS });
  await formatLog(m, { logBlocks: 16 });
  return m;
}

describe('tail slots', () => {
  it('a torn install tail write leaves the tail recovery wrote, not an older one', async () => {
    const m = await formatted();
    // Session 1: a commit left in the log, then a crash (no close, no install).
    const s1 = await LogDisk.open(keepOpen(m));
    await s1.write(0, blk(1));
    // Session 2: recovery replays it and writes tail write 1; two more commits; close()
    // installs them and writes tail write 2, which is torn.
    const dev = tearingTailWrite(m, 2);
    const s2 = await LogDisk.open(dev);
    await s2.write(0, blk(2));
    await s2.write(0, blk(3));
    await s2.close();
    expect(dev.tornAt(), 'the install wrote a tail and the cut tore it').toBeDefined();
    const again = await LogDisk.open(keepOpen(m));
    expect((await again.read(0))[0]).toBe(3);
    await again.close();
  });

  it("a torn tail write of recovery's retire leaves the previous recovery's tail, not an older one", async () => {
    const m = await formatted();
    const s1 = await LogDisk.open(keepOpen(m));
    await s1.write(0, blk(1)); // crash: left in the log
    const s2 = await LogDisk.open(keepOpen(m)); // recovery writes a tail past it
    await s2.write(0, blk(2)); // crash: left in the log
    // Session 3: its recovery replays the second commit, then its tail write is torn.
    const dev = tearingTailWrite(m, 1);
    await expect(LogDisk.open(dev)).rejects.toBeInstanceOf(PowerCut);
    expect(dev.tornAt()).toBeDefined();
    const again = await LogDisk.open(keepOpen(m));
    expect((await again.read(0))[0]).toBe(2);
    await again.close();
  });
});
