import { describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { ReplicatedDisk } from '../src/replicated/replicated-disk.ts';
import { CrashClock, Crashed, CrashingDevice } from './helpers/devices.ts';
import { pattern } from './helpers/tmp.ts';

/**
 * Crash in the middle of the replicated disk's writes, at every write of a small workload,
 * on synchronous devices (each write durable when it returns). Recovery must complete or
 * discard each interrupted write as a whole, and leave the mirrors equal.
 */
const STORE = 'cd'.repeat(16);
const N_BLOCKS = 6;

interface Step {
  addr: number;
  seed: number;
}

// Two clients: one writes addresses 0..2, the other 1..3 (overlap on 1 and 2).
const clients: Step[][] = [
  [{ addr: 0, seed: 1 }, { addr: 1, seed: 2 }, { addr: 2, seed: 3 }, { addr: 0, seed: 4 }],
  [{ addr: 1, seed: 11 }, { addr: 3, seed: 12 }, { addr: 2, seed: 13 }],
];

async function runUntilCrash(limit: number) {
  const clock = new CrashClock();
  const m0 = new MemBlockDevice({ numBlocks: N_BLOCKS }), m1 = new MemBlockDevice({ numBlocks: N_BLOCKS });
  const d0 = new CrashingDevice(m0, clock, { storeId: STORE, index: 0, epoch: 0 });
  const d1 = new CrashingDevice(m1, clock, { storeId: STORE, index: 1, epoch: 0 });
  const disk = await ReplicatedDisk.open(d0, d1);
  // Count the workload's writes only, not the opening recovery's.
  clock.count = 0;
  clock.limit = limit;
  // What each address may legally hold after the crash: values of completed writes (the last
  // one completed, under the per-address order) or of a write still in flight.
  const completed = new Map<number, number[]>();
  const inFlight = new Map<number, Set<number>>();
  const results = await Promise.allSettled(
    clients.map(async (steps) => {
      for (const s of steps) {
        if (!inFlight.has(s.addr)) inFlight.set(s.addr, new Set());
        inFlight.get(s.addr)!.add(s.seed);
        await disk.write(s.addr, pattern(4096, s.seed));
        inFlight.get(s.addr)!.delete(s.seed);
        completed.set(s.addr, [...(completed.get(s.addr) ?? []), s.seed]);
      }
    }),
  );
  for (const r of results) if (r.status === 'rejected' && !(r.reason instanceof Crashed)) throw r.reason;
  return { m0, m1, completed, inFlight, crashed: clock.crashed, writes: clock.count };
}

describe('ReplicatedDisk crash at every write point (synchronous disks)', () => {
  it('recovers each interrupted write whole and the mirrors agree', async () => {
    const full = await runUntilCrash(Infinity);
    expect(full.crashed).toBe(false);
    const points = full.writes;
    expect(points).toBe(2 * clients.flat().length);
    let recoveredWrites = 0;
    for (let k = 0; k <= points; k++) {
      const run = await runUntilCrash(k);
      const disk = await ReplicatedDisk.open(run.m0, run.m1);
      for (let a = 0; a < N_BLOCKS; a++) {
        const got = Buffer.from(await disk.read(a));
        const done = run.completed.get(a) ?? [];
        const allowed = [...(run.inFlight.get(a) ?? [])].map((s) => pattern(4096, s));
        // The last completed write is the floor; without one, the initial zeros are.
        allowed.push(done.length ? pattern(4096, done[done.length - 1]) : Buffer.alloc(4096));
        expect(allowed.some((b) => b.equals(got)), `crash after ${k} writes, address ${a}`).toBe(true);
        expect(Buffer.from(await run.m0.read(a)).equals(Buffer.from(await run.m1.read(a))), `mirrors at ${a}`).toBe(true);
        if (run.inFlight.get(a)?.size && !allowed.at(-1)!.equals(got)) recoveredWrites++;
      }
    }
    // Some crash points fall between the two halves of a write: recovery must have completed
    // those writes (they show their new value), which shows the test reached that case.
    expect(recoveredWrites).toBeGreaterThan(0);
  });

  it('a second recovery after a crash during recovery ends the same way', async () => {
    // Crash between the halves of the first write: disk 0 new, disk 1 old.
    const run = await runUntilCrash(1);
    expect(Buffer.from(await run.m0.read(0)).equals(Buffer.from(await run.m1.read(0)))).toBe(false);
    const snapshot0 = run.m0.snapshot();
    // Recovery itself crashes before its first write, then runs again.
    const clock = new CrashClock(0);
    const r0 = new CrashingDevice(run.m0, clock, { storeId: STORE, index: 0, epoch: 0 });
    const r1 = new CrashingDevice(run.m1, clock, { storeId: STORE, index: 1, epoch: 0 });
    await expect(ReplicatedDisk.open(r0, r1)).rejects.toBeInstanceOf(Crashed);
    const disk = await ReplicatedDisk.open(run.m0, run.m1);
    expect(Buffer.from(await disk.read(0)).equals(Buffer.from(snapshot0.get(0)!))).toBe(true);
    expect(Buffer.from(await run.m1.read(0)).equals(Buffer.from(snapshot0.get(0)!))).toBe(true);
  });
});
