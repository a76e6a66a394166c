import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { ReplicatedDisk } from '../src/replicated/replicated-disk.ts';
import { scheduledDevice } from './helpers/devices.ts';
import { linearizable, type RegisterOp } from './helpers/register-check.ts';

/**
 * Model-based test of ReplicatedDisk against the atomic disk: several clients run random
 * reads, writes, flushes and one disk failure at once; fast-check's scheduler decides the
 * order in which every device call resolves (so a failure replays from its seed). Each
 * address's history must be linearizable as a register, the final state must be the last
 * write of such an order, and the surviving mirrors must be equal.
 */
const N = 4;
const BS = 512;

type Op = { t: 'write'; addr: number; v: number } | { t: 'read'; addr: number } | { t: 'flush' } | { t: 'fail'; disk: 0 | 1 };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('write' as const), addr: fc.nat(N - 1), v: fc.integer({ min: 1, max: 250 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('read' as const), addr: fc.nat(N - 1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('flush' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('fail' as const), disk: fc.constantFrom(0 as const, 1 as const) }) },
);

const block = (v: number) => new Uint8Array(BS).fill(v);
const tag = (b: Uint8Array) => String(b[0]);

describe('ReplicatedDisk against the atomic disk spec (concurrent, seeded scheduler)', () => {
  it('is linearizable per address, ends in a linearizable state, keeps surviving mirrors equal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.array(opArb, { maxLength: 6 }), { minLength: 1, maxLength: 3 }), async (s, clients) => {
        const m = [new MemBlockDevice({ numBlocks: N, blockSize: BS }), new MemBlockDevice({ numBlocks: N, blockSize: BS })];
        const on = { v: false };
        const disk = await ReplicatedDisk.open(scheduledDevice(m[0], s, on), scheduledDevice(m[1], s, on));
        on.v = true;
        let clock = 0;
        let failedOne: 0 | 1 | undefined;
        const hist: RegisterOp[][] = Array.from({ length: N }, () => []);
        const run = Promise.all(
          clients.map(async (ops) => {
            for (const op of ops) {
              if (op.t === 'fail') {
                if (failedOne === undefined) {
                  failedOne = op.disk;
                  m[op.disk].fail();
                }
                continue;
              }
              const call = ++clock;
              if (op.t === 'write') {
                await disk.write(op.addr, block(op.v));
                hist[op.addr].push({ kind: 'write', value: String(op.v), call, ret: ++clock });
              } else if (op.t === 'read') {
                const got = await disk.read(op.addr);
                hist[op.addr].push({ kind: 'read', value: tag(got), call, ret: ++clock });
              } else {
                await disk.flush();
              }
            }
          }),
        );
        await s.waitFor(run);
        on.v = false;
        for (let a = 0; a < N; a++) {
          const final = tag(await disk.read(a));
          expect(linearizable(hist[a], '0', final), `address ${a}: ${JSON.stringify(hist[a])} final ${final}\n${s.report().map((r) => r.label).join(', ')}`).toBe(true);
          const live = [0, 1].filter((i) => i !== failedOne);
          if (live.length === 2) expect(tag(await m[0].read(a))).toBe(tag(await m[1].read(a)));
        }
        // Degraded only ever because of the failure the test injected, and then on that disk.
        if (disk.status().degraded) expect(disk.status().disks[failedOne!].state).toBe('failed');
      }),
      { numRuns: 150, seed: 20261125 },
    );
  });
});
