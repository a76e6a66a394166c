import { describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { DeviceFailedError } from '../src/errors.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import { seeded as rng } from './helpers/devices.ts';
import { CLIENTS, DATA, LOG, SHARED, STEPS, RandomFlushDevice, checkClient, client, readAll, type Progress } from './helpers/random-flush-workload.ts';
import { formatLog } from '../src/wal/log-format.ts';

/**
 * The pipelined commit writer under random timing: every device flush completes
 * after a random number of event-loop turns, so commit flushes (and install flushes) finish
 * out of order, and a tiny log keeps two groups in flight against back-pressure and
 * installs. At a random moment a power cut is taken (each address keeps any one of the
 * values written to it since its last completed flush), or the device fails (fail-stop).
 * Checked: no committer hangs; every acknowledged transaction survives; pairs written
 * together are never torn; each client's state is a prefix of what it started; a shared
 * counter loses no acknowledged increment and counts no increment twice.
 */
async function run(seed: number, event: 'crash' | 'fail' | 'none') {
  const rand = rng(seed);
  const dev = new RandomFlushDevice(3 + LOG + DATA, rand);
  await formatLog(dev, { logBlocks: LOG });
  const disk = await LogDisk.open(dev);
  const p: Progress = { started: Array(CLIENTS).fill(0), acked: Array(CLIENTS).fill(0), counterAcked: 0, counterStarted: 0 };
  let settled = 0;
  const results = Array.from({ length: CLIENTS }, (_, c) =>
    client(disk, c, STEPS, p, rand).then(
      () => void settled++,
      (e: unknown) => {
        settled++;
        if (!(e instanceof DeviceFailedError)) throw e;
      },
    ),
  );
  const at = 1 + Math.floor(rand() * 40);
  let snapshot: { img: MemBlockDevice; p: Progress } | undefined;
  for (let i = 0; i < 2000 && settled < CLIENTS; i++) {
    await new Promise<void>((r) => setImmediate(r));
    if (i === at && event === 'crash') snapshot = { img: dev.image(rand), p: structuredClone(p) };
    if (i === at && event === 'fail') dev.fail();
  }
  expect(settled, `seed ${seed}: every client's call settled (nobody waits forever)`).toBe(CLIENTS);
  await Promise.all(results);
  if (event === 'none') {
    const vals = await readAll(disk);
    expect(vals.get(SHARED)).toBe(p.counterStarted);
    for (let c = 0; c < CLIENTS; c++) checkClient(vals, c, STEPS, STEPS, `seed ${seed}, end`);
  }
  const pipelined = disk.stats.pipelined;
  await disk.close();
  if (event === 'none') return { pipelined, midway: false };
  const at2 = snapshot ?? { img: dev.image(rand), p };
  const again = await LogDisk.open(at2.img);
  const vals = await readAll(again);
  const where = `seed ${seed}, ${event} at turn ${at}`;
  for (let c = 0; c < CLIENTS; c++) checkClient(vals, c, at2.p.acked[c], at2.p.started[c], where);
  expect(vals.get(SHARED)!, `${where}: shared counter`).toBeGreaterThanOrEqual(at2.p.counterAcked);
  expect(vals.get(SHARED)!).toBeLessThanOrEqual(at2.p.counterStarted);
  await again.close();
  return { pipelined, midway: at2.p.acked.some((a) => a < STEPS) };
}

describe('random flush timing with two groups in flight', () => {
  const many = async (from: number, to: number, event: 'crash' | 'fail' | 'none') => {
    let pipelined = 0;
    let midway = 0;
    for (let seed = from; seed <= to; seed++) {
      const r = await run(seed, event);
      pipelined += r.pipelined;
      if (r.midway) midway++;
    }
    expect(pipelined, 'runs had two groups in flight').toBeGreaterThan(0);
    if (event !== 'none') expect(midway, 'most events struck mid-run').toBeGreaterThan((to - from) / 2);
  };
  it('without faults: serializable, every update kept', async () => {
    await many(1, 15, 'none');
  });
  it('power cut at a random moment: acknowledged kept, nothing torn, prefixes only', async () => {
    await many(100, 160, 'crash');
  });
  it('fail-stop at a random moment: nobody hangs, acknowledged kept', async () => {
    await many(200, 240, 'fail');
  });
});
