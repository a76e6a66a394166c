import { describe, expect, it } from 'vitest';
import { ReplicatedDisk } from '../src/replicated/replicated-disk.ts';
import { CachedDevice } from './helpers/devices.ts';

/**
 * Failures and power losses around the epoch that orders the two disks' histories, on
 * devices with a volatile cache. Each case is one a review found losing data.
 */
const SID = 'ef'.repeat(16);
const BS = 512;
const blk = (v: number) => new Uint8Array(BS).fill(v);
const pair = (n = 8) => [new CachedDevice(n, BS, { storeId: SID, index: 0, epoch: 0 }), new CachedDevice(n, BS, { storeId: SID, index: 1, epoch: 0 })] as const;
const values = async (disk: ReplicatedDisk, n: number) => Promise.all(Array.from({ length: n }, async (_, a) => (await disk.read(a))[0]));

describe('ReplicatedDisk epochs under failures and power loss', () => {
  it('refuses to open when the only up-to-date disk fails during recovery, instead of serving the stale one', async () => {
    let [d0, d1] = pair();
    const disk = await ReplicatedDisk.open(d0, d1);
    for (let a = 0; a < 8; a++) await disk.write(a, blk(1));
    await disk.flush();
    d1.fail();
    for (let a = 0; a < 8; a++) await disk.write(a, blk(9)); // acknowledged on disk 0 only
    await disk.flush();
    expect(d0.durableLabel.epoch).toBeGreaterThan(d1.durableLabel.epoch);
    d0 = d0.powerLoss();
    d1 = d1.powerLoss();
    d0.failAfterReads = 3; // disk 0 dies part way through the copy onto disk 1
    await expect(ReplicatedDisk.open(d0, d1)).rejects.toMatchObject({ code: 'ERR_DEVICE_FAILED' });
  });

  it('opens degraded on the other disk when the source fails during recovery with equal epochs', async () => {
    const [d0, d1] = pair();
    const disk = await ReplicatedDisk.open(d0, d1);
    for (let a = 0; a < 8; a++) await disk.write(a, blk(4));
    await disk.flush();
    const r0 = d0.powerLoss(), r1 = d1.powerLoss();
    r0.failAfterReads = 3;
    const again = await ReplicatedDisk.open(r0, r1);
    expect(again.status().disks.map((d) => d.state)).toEqual(['failed', 'ok']);
    expect(await values(again, 8)).toEqual(Array(8).fill(4));
    expect(r1.durableLabel.epoch).toBeGreaterThan(r0.durableLabel.epoch);
  });

  it('does not resolve flush() before the survivor\'s raised epoch is durable', async () => {
    const [d0, d1] = pair();
    const disk = await ReplicatedDisk.open(d0, d1);
    await disk.write(1, blk(7));
    let release!: () => void;
    d1.labelGate = new Promise((r) => (release = r));
    d0.fail();
    const reading = disk.read(1); // notices the failure and starts raising disk 1's epoch
    let flushed = false;
    const flushing = disk.flush().then(() => (flushed = true));
    for (let i = 0; i < 20; i++) await null;
    expect(flushed).toBe(false);
    release();
    await Promise.all([reading, flushing]);
    // Power loss, and disk 0 comes back: disk 1 must win.
    const again = await ReplicatedDisk.open(d0.powerLoss(), d1.powerLoss());
    expect((await again.read(1))[0]).toBe(7);
  });

  it('does not acknowledge a write when raising the epoch fails the last disk', async () => {
    const [d0, d1] = pair();
    const disk = await ReplicatedDisk.open(d0, d1);
    let release!: () => void;
    d1.labelGate = new Promise((r) => (release = r));
    d0.fail();
    const w1 = disk.write(2, blk(3)); // notices the failure, starts raising disk 1's epoch
    for (let i = 0; i < 10; i++) await null;
    const w2 = disk.write(3, blk(3)); // lands on disk 1, then waits for the epoch
    for (let i = 0; i < 10; i++) await null;
    d1.fail();
    release();
    await expect(w1).rejects.toMatchObject({ code: 'ERR_DEVICE_FAILED' });
    await expect(w2).rejects.toMatchObject({ code: 'ERR_DEVICE_FAILED' });
  });

  it('makes served values durable on the source before serving them after a restart', async () => {
    const [d0, d1] = pair();
    const disk = await ReplicatedDisk.open(d0, d1);
    await disk.write(1, blk(7)); // not flushed: a process kill keeps it in the page cache
    const afterKill = await ReplicatedDisk.open(d0, d1);
    expect((await afterKill.read(1))[0]).toBe(7);
    const afterPowerLoss = await ReplicatedDisk.open(d0.powerLoss(), d1.powerLoss());
    expect((await afterPowerLoss.read(1))[0]).toBe(7);
  });

  it('refuses a second attach while a rebuild runs', async () => {
    const [d0, d1] = pair(64);
    const disk = await ReplicatedDisk.open(d0, d1);
    for (let a = 0; a < 64; a++) await disk.write(a, blk(5));
    d1.fail();
    await disk.write(0, blk(6));
    const epoch = d0.label.epoch;
    const a = new CachedDevice(64, BS, { storeId: SID, index: 1, epoch: 0 });
    const b = new CachedDevice(64, BS, { storeId: SID, index: 1, epoch: 0 });
    const first = disk.attach(1, a);
    await expect(disk.attach(1, b)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await first;
    expect(a.label.epoch).toBe(epoch);
    d0.fail();
    expect(await values(disk, 2)).toEqual([6, 5]);
  });
});
