import { randomBytes } from 'node:crypto';
import { FileBlockDevice } from '../../src/device/file-block-device.ts';
import { ReplicatedDisk } from '../../src/replicated/replicated-disk.ts';
import type { Contender, Group } from '../contender.ts';
import { blockWriteLoop } from '../measure.ts';
import type { Scratch } from '../tmp.ts';
import { BLOCK_SIZE, workloadBlocks, stripes } from '../workload.ts';
import { rawContender } from './raw.ts';

/** Opens a fresh pair of file devices as a ReplicatedDisk, with the blocks the workload touches already allocated. */
export async function freshReplicatedDisk(scratch: Scratch, numBlocks: number, fillBlocks: number): Promise<ReplicatedDisk> {
  const storeId = randomBytes(16).toString('hex');
  const d0 = await FileBlockDevice.create(scratch.path('rd-0.img'), { numBlocks, label: { storeId, index: 0 } });
  const d1 = await FileBlockDevice.create(scratch.path('rd-1.img'), { numBlocks, label: { storeId, index: 1 } });
  const rd = await ReplicatedDisk.open(d0, d1);
  // The raw files are preallocated; do the same here so both measure overwrites, not extent allocation.
  const zeros = Array.from({ length: 256 }, () => new Uint8Array(BLOCK_SIZE));
  for (let a = 0; a < fillBlocks; a += 256) await rd.writev(a, zeros.slice(0, Math.min(256, fillBlocks - a)));
  await rd.flush();
  return rd;
}

/** ReplicatedDisk on two files: each operation is write(addr) then flush(), i.e. one durable block write. */
export function replicatedContender(scratch: Scratch, clients: number): Contender {
  let rd: ReplicatedDisk | undefined;
  const diskBlocks = workloadBlocks();
  const s = stripes(clients, diskBlocks);
  return {
    id: `replicated.c${clients}`,
    label: `ReplicatedDisk, ${clients === 1 ? '1 writer' : `${clients} writers`}`,
    kind: 'ours',
    clients,
    spec: { type: 'replicated', clients },
    async setup() {
      rd = await freshReplicatedDisk(scratch, diskBlocks, diskBlocks);
    },
    trial(durationMs) {
      const disk = rd!;
      return blockWriteLoop(durationMs, clients, s, async (addr, block) => {
        await disk.write(addr, block);
        await disk.flush();
      });
    },
    async teardown() {
      await rd?.close();
      rd = undefined;
    },
  };
}

/** The raw limit on one and two files, and the replicated disk next to the two-file limit, alternating in rounds. */
export function diskGroup(scratch: Scratch, withReplicated: boolean): Group {
  const contenders = [
    rawContender(scratch, 1, 1),
    rawContender(scratch, 1, 16),
    rawContender(scratch, 2, 1),
    rawContender(scratch, 2, 16),
  ];
  if (withReplicated) contenders.push(replicatedContender(scratch, 1), replicatedContender(scratch, 16));
  return {
    id: 'disk',
    title: 'Durable 4 KiB block writes: raw write+fdatasync limit and ReplicatedDisk (write + flush per op)',
    opName: 'writes',
    contenders,
    ratios: withReplicated
      ? [
          { ours: 'replicated.c1', baseline: 'raw.2file.c1' },
          { ours: 'replicated.c16', baseline: 'raw.2file.c16' },
        ]
      : [],
    notes: [
      'raw: each op writes the block to every file (fs.writeSync) then fdatasyncs every file (async, libuv pool of 4 threads); no sharing of syncs between ops',
      'ReplicatedDisk shares flushes between concurrent writers (FlushCoalescer), so with 16 writers it may pass the raw per-op limit',
    ],
  };
}
