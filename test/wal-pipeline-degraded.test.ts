import { describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import { seeded as rng } from './helpers/devices.ts';
import { BS, CLIENTS, DATA, LOG, SHARED, STEPS, RandomFlushDevice, checkClient, client, readAll, type Progress } from './helpers/random-flush-workload.ts';
import { formatLog } from '../src/wal/log-format.ts';
import { ReplicatedDisk } from '../src/replicated/replicated-disk.ts';

/**
 * The same random-timing workload as wal-pipeline-random.test.ts, through the whole
 * stack (log over a replicated pair), with one mirror failing at a random moment while
 * groups are in flight: the store goes on degraded, and a power cut of the survivor
 * afterwards keeps every acknowledged transaction (workload: helpers/random-flush-workload.ts).
 */
async function run(seed: number) {
  const rand = rng(seed);
  const devs = [new RandomFlushDevice(3 + LOG + DATA, rand), new RandomFlushDevice(3 + LOG + DATA, rand)];
  const pair = await ReplicatedDisk.open(devs[0], devs[1]);
  await formatLog(pair, { logBlocks: LOG });
  const disk = await LogDisk.open(pair);
  const p: Progress = { started: Array(CLIENTS).fill(0), acked: Array(CLIENTS).fill(0), counterAcked: 0, counterStarted: 0 };
  let settled = 0;
  const results = Array.from({ length: CLIENTS }, (_, c) => client(disk, c, STEPS, p, rand).then(() => void settled++));
  const at = 1 + Math.floor(rand() * 30);
  const victim = rand() < 0.5 ? 0 : 1;
  let ackedAtFailure = -1;
  for (let i = 0; i < 3000 && settled < CLIENTS; i++) {
    await new Promise<void>((r) => setImmediate(r));
    if (i === at) {
      devs[victim].fail();
      ackedAtFailure = p.acked.reduce((x, y) => x + y, 0);
    }
  }
  expect(settled, `seed ${seed}: every client finished on the surviving disk`).toBe(CLIENTS);
  await Promise.all(results);
  const vals = await readAll(disk);
  expect(vals.get(SHARED)).toBe(p.counterStarted);
  for (let c = 0; c < CLIENTS; c++) checkClient(vals, c, STEPS, STEPS, `seed ${seed}, degraded end`);
  const pipelined = disk.stats.pipelined;
  // Power cut without close: only the survivor's flushed writes (and any pending ones) remain.
  const img = devs[1 - victim].image(rand);
  const dead = new MemBlockDevice({ numBlocks: img.numBlocks, blockSize: BS });
  dead.fail();
  await disk.close();
  const pair2 = victim === 0 ? await ReplicatedDisk.open(dead, img) : await ReplicatedDisk.open(img, dead);
  const again = await LogDisk.open(pair2);
  const after = await readAll(again);
  expect(after.get(SHARED), `seed ${seed}: the counter after a power cut`).toBe(p.counterStarted);
  for (let c = 0; c < CLIENTS; c++) checkClient(after, c, STEPS, STEPS, `seed ${seed}, recovered from the survivor`);
  await again.close();
  return { pipelined, midway: ackedAtFailure < CLIENTS * STEPS };
}

describe('a mirror fails while commit groups are in flight', () => {
  it('the store finishes degraded and the survivor alone recovers every acknowledged transaction', async () => {
    let pipelined = 0;
    let midway = 0;
    for (let seed = 300; seed <= 330; seed++) {
      const r = await run(seed);
      pipelined += r.pipelined;
      if (r.midway) midway++;
    }
    expect(pipelined).toBeGreaterThan(0);
    expect(midway).toBeGreaterThan(15);
  });
});
