import { describe, expect, it } from 'vitest';
import { storeRecovery } from '../recovery/stack.ts';
import { AbstractBlockDevice } from '../src/device/abstract-block-device.ts';
import type { BlockDevice } from '../src/device/block-device.ts';
import { openStore } from '../src/store/open-store.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import { formatLog } from '../src/wal/log-format.ts';
import type { TransactionalDisk } from '../src/wal/transactional-disk.ts';
import { seeded as rng } from './helpers/devices.ts';

/**
 * Crash the log at every device write or flush of a small concurrent workload, then
 * reopen (which is recovery) and check: every transaction that returned is there whole,
 * no transaction shows in part, and each client's addresses hold the state after some
 * prefix of its transactions, from the last one acknowledged to the last one started.
 *
 * Crash models: `keep` (every write that happened survives: synchronous disks), `drop`
 * (every write since the last flush is lost) and `mixed` (each address keeps any one of
 * the values written to it since the last flush, chosen by a seeded generator).
 * Recovery itself is crashed too, at each of its own write points, for some runs.
 */
const BS = 512;
const DATA = 8;

class Crashed extends Error {}

class Power {
  count = 0;
  limit = Infinity;
  tick(): void {
    if (this.count >= this.limit) throw new Crashed(`crashed after ${this.limit} writes`);
    this.count++;
  }
  get off(): boolean {
    return this.count >= this.limit;
  }
}

type Model = 'keep' | 'drop' | 'mixed';

/** A device with a volatile cache: writes since the last flush live only in `pending`. */
class VolatileDevice extends AbstractBlockDevice {
  readonly durable: Map<number, Uint8Array>;
  readonly pending = new Map<number, Uint8Array[]>();
  constructor(numBlocks: number, readonly power: Power, durable = new Map<number, Uint8Array>(), readonly flushTurns = 0) {
    super(numBlocks, BS);
    this.durable = durable;
  }
  protected async _read(addr: number) {
    if (this.power.off) throw new Crashed('crashed');
    const p = this.pending.get(addr);
    const b = p ? p[p.length - 1] : this.durable.get(addr);
    return b ? b.slice() : new Uint8Array(BS);
  }
  protected async _write(addr: number, data: Uint8Array) {
    this.power.tick();
    const p = this.pending.get(addr) ?? [];
    p.push(new Uint8Array(data));
    this.pending.set(addr, p);
  }
  protected async _flush() {
    this.power.tick();
    // A flush covers the writes made before it started; a slow one lets later writes (the
    // next commit group) arrive while it runs, and they stay pending.
    // Flushes may overlap (the log alone has no coalescer above it): each settles what
    // was pending when it started, by identity, whatever another flush did meanwhile.
    const covered = new Map([...this.pending].map(([a, p]) => [a, p[p.length - 1]]));
    for (let i = 0; i < this.flushTurns; i++) await new Promise<void>((r) => setImmediate(r));
    if (this.power.off) throw new Crashed('crashed during a flush');
    for (const [a, last] of covered) {
      const p = this.pending.get(a);
      const n = p ? p.indexOf(last) + 1 : 0;
      if (n === 0) continue; // an overlapping flush settled it already
      this.durable.set(a, last);
      p!.splice(0, n);
      if (p!.length === 0) this.pending.delete(a);
    }
  }
  protected async _close() {}
  /** What survives a power cut under `model`. */
  afterCrash(model: Model, rand: () => number): Map<number, Uint8Array> {
    const out = new Map(this.durable);
    for (const [a, p] of this.pending) {
      if (model === 'keep') out.set(a, p[p.length - 1]);
      if (model === 'mixed') {
        const i = Math.floor(rand() * (p.length + 1));
        if (i < p.length) out.set(a, p[i]);
      }
    }
    return out;
  }
}

// ── workload: three clients on disjoint addresses, transactions sequential per client ──

interface Tx {
  id: number;
  writes: number[]; // addresses; each gets the value `id`
  plain?: boolean; // a one-block write() rather than transaction()
}
interface Workload {
  name: string;
  /** Tiny logs, so that the workload wraps the log, installs and waits for space. */
  log: number;
  /** Turns of the event loop a device flush takes (0: at once). */
  flushTurns?: number;
  clients: Tx[][];
}
const workloads: Workload[] = [
  {
    name: 'three clients, transactions of 1 to 3 blocks',
    log: 7,
    clients: [
      [{ id: 1, writes: [0, 1, 2] }, { id: 2, writes: [1, 2] }, { id: 3, writes: [0, 2] }, { id: 4, writes: [0, 1, 2] }],
      [{ id: 11, writes: [3, 4, 5] }, { id: 12, writes: [4] }, { id: 13, writes: [3, 5] }],
      [{ id: 21, writes: [6], plain: true }, { id: 22, writes: [7], plain: true }, { id: 23, writes: [6], plain: true }],
    ],
  },
  {
    // Every record is 2 blocks in a log of 8, so old laps leave whole, checksummed records
    // exactly where the next one goes: only the sequence number tells them apart.
    name: 'one client, one-block writes lapping the log',
    log: 8,
    clients: [Array.from({ length: 11 }, (_, i) => ({ id: 31 + i, writes: [i % 2], plain: true }))],
  },
  {
    // Commits arrive while a slow flush runs, so a second group is appended and its flush
    // requested before the first group is acknowledged (the writer's pipeline).
    name: 'four clients, slow flushes: groups in flight two at a time',
    log: 16,
    flushTurns: 2,
    clients: [0, 1, 2, 3].map((c) => [0, 1, 2].map((i) => ({ id: 41 + 10 * c + i, writes: [2 * c + (i % 2)], plain: i !== 1 }))),
  },
];

function stateAfter(txs: Tx[], k: number): Map<number, number> {
  const m = new Map<number, number>();
  for (const tx of txs.slice(0, k)) for (const a of tx.writes) m.set(a, tx.id);
  return m;
}

interface Progress {
  acked: number[];
  started: number[];
}

async function runWorkload(disk: TransactionalDisk, clients: Tx[][]): Promise<Progress> {
  const progress: Progress = { acked: clients.map(() => 0), started: clients.map(() => 0) };
  const results = await Promise.allSettled(
    clients.map(async (txs, c) => {
      for (const tx of txs) {
        progress.started[c]++;
        if (tx.plain) await disk.write(tx.writes[0], new Uint8Array(BS).fill(tx.id));
        else
          await disk.transaction(async (t) => {
            for (const a of tx.writes) {
              await t.read(a);
              t.write(a, new Uint8Array(BS).fill(tx.id));
            }
          });
        progress.acked[c]++;
      }
    }),
  );
  for (const r of results) if (r.status === 'rejected' && !(r.reason instanceof Crashed)) throw r.reason;
  return progress;
}

async function check(disk: TransactionalDisk, clients: Tx[][], p: Progress, where: string): Promise<void> {
  const values: number[] = [];
  for (let a = 0; a < DATA; a++) {
    const b = await disk.read(a);
    expect(b.every((x) => x === b[0]), `${where}: address ${a} holds a mixed block`).toBe(true);
    values.push(b[0]);
  }
  clients.forEach((txs, c) => {
    const addrs = [...new Set(txs.flatMap((t) => t.writes))];
    const ok = [];
    for (let k = p.acked[c]; k <= p.started[c]; k++) {
      const s = stateAfter(txs, k);
      if (addrs.every((a) => values[a] === (s.get(a) ?? 0))) ok.push(k);
    }
    expect(ok.length, `${where}: client ${c} sees ${addrs.map((a) => values[a])}, acked ${p.acked[c]}, started ${p.started[c]}`).toBeGreaterThan(0);
  });
}

// ── the two subjects: the log alone on one device, and the whole stack ──

interface Subject {
  name: string;
  /** Builds a formatted, empty system on fresh devices with the given power. */
  create(power: Power, log: number, flushTurns: number): Promise<{ devs: VolatileDevice[]; disk: TransactionalDisk }>;
  /** Recovers from surviving device contents. */
  reopen(devs: VolatileDevice[]): Promise<TransactionalDisk>;
}

const deviceBlocks = (log: number) => 3 + log + DATA;
const subjects: Subject[] = [
  {
    name: 'log on one device',
    async create(power, log, flushTurns) {
      const d = new VolatileDevice(deviceBlocks(log), power, undefined, flushTurns);
      await formatLog(d, { logBlocks: log });
      return { devs: [d], disk: await LogDisk.open(d) };
    },
    reopen: (devs) => LogDisk.open(devs[0]),
  },
  {
    name: 'whole stack (replicated pair, composed recovery)',
    async create(power, log, flushTurns) {
      const devs = [new VolatileDevice(deviceBlocks(log), power, undefined, flushTurns), new VolatileDevice(deviceBlocks(log), power, undefined, flushTurns)];
      const disk = await openStore({ devices: [devs[0], devs[1]], logBlocks: log, numBlocks: DATA });
      return { devs, disk };
    },
    reopen: (devs) => storeRecovery.recover([devs[0], devs[1]]),
  },
];

async function crashRun(s: Subject, w: Workload, limit: number, model: Model, seed: number, recoveryCrashes: boolean): Promise<boolean> {
  const power = new Power();
  const { devs, disk } = await s.create(power, w.log, w.flushTurns ?? 0);
  power.count = 0;
  power.limit = limit;
  const progress = await runWorkload(disk, w.clients);
  const crashed = power.off;
  if (!crashed) await disk.close();
  const rand = rng(seed);
  let images = devs.map((d) => d.afterCrash(model, rand));
  // Crash recovery at its 1st, 2nd, ... write until a run of it completes.
  for (let rlimit = recoveryCrashes ? 1 : Infinity; ; rlimit++) {
    const p2 = new Power();
    p2.limit = rlimit;
    const again = images.map((img) => new VolatileDevice(deviceBlocks(w.log), p2, new Map(img)));
    let reopened: TransactionalDisk;
    try {
      reopened = await s.reopen(again);
    } catch (err) {
      if (!(err instanceof Crashed)) throw err;
      images = again.map((d) => d.afterCrash(model, rand));
      expect(rlimit, 'recovery makes progress').toBeLessThan(200);
      continue;
    }
    p2.limit = Infinity;
    await check(reopened, w.clients, progress, `${s.name}, ${w.name}, crash at ${limit} (${model}), recovery crashed ${rlimit - 1} times`);
    await reopened.close();
    return crashed;
  }
}

const cases = subjects.flatMap((s) => workloads.map((w) => ({ s, w, name: `${s.name}; ${w.name}` })));

describe.each(cases)('crash at every write point: $name', ({ s, w }) => {
  const countPoints = async () => {
    const full = new Power();
    const { disk } = await s.create(full, w.log, w.flushTurns ?? 0);
    full.count = 0;
    await runWorkload(disk, w.clients);
    const points = full.count;
    await disk.close();
    return points;
  };

  it('keeps every acknowledged transaction whole and shows no partial one, under every crash model', async () => {
    const points = await countPoints();
    expect(points).toBeGreaterThan(10);
    let crashes = 0;
    for (let limit = 0; limit <= points; limit++) {
      for (const model of ['keep', 'drop', 'mixed'] as const) {
        if (await crashRun(s, w, limit, model, limit * 7 + 1, false)) crashes++;
      }
    }
    expect(crashes).toBeGreaterThanOrEqual(3 * points);
  });

  it("survives crashes during recovery, at each of recovery's own write points", async () => {
    const points = await countPoints();
    for (let limit = 1; limit <= points; limit += 3) await crashRun(s, w, limit, 'mixed', limit * 13 + 5, true);
  });
});
