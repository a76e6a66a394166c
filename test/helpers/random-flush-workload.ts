import { expect } from 'vitest';
import { AbstractBlockDevice } from '../../src/device/abstract-block-device.ts';
import { MemBlockDevice } from '../../src/device/mem-block-device.ts';
import type { LogDisk } from '../../src/wal/log-disk.ts';

/**
 * The random-timing workload of the pipelined commit writer's tests
 * (test/wal-pipeline-random.test.ts on the log alone, -degraded on the whole stack):
 * a device whose flushes finish after a random number of event-loop turns, and clients
 * whose writes make acknowledged, torn or lost work visible.
 */
export const BS = 512;
export const DATA = 32;
export const LOG = 12;
export const SHARED = 30;

interface PendingWrite {
  seq: number;
  addr: number;
  data: Uint8Array;
}

export class RandomFlushDevice extends AbstractBlockDevice {
  readonly latest = new Map<number, Uint8Array>();
  readonly durable = new Map<number, Uint8Array>();
  pending: PendingWrite[] = [];
  #seq = 0;
  constructor(
    numBlocks: number,
    readonly rand: () => number,
  ) {
    super(numBlocks, BS);
  }
  protected async _read(addr: number) {
    return (this.latest.get(addr) ?? new Uint8Array(BS)).slice();
  }
  protected async _write(addr: number, data: Uint8Array) {
    const copy = new Uint8Array(data);
    this.pending.push({ seq: ++this.#seq, addr, data: copy });
    this.latest.set(addr, copy);
  }
  protected async _flush() {
    const upto = this.#seq;
    const n = Math.floor(this.rand() * 5);
    for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
    this.checkUsable(); // a flush still running when the device dies fails
    this.pending = this.pending.filter((p) => {
      if (p.seq > upto) return true;
      this.durable.set(p.addr, p.data);
      return false;
    });
  }
  protected async _close() {}
  fail() {
    this.markFailed('failed on purpose');
  }
  /** Power cut: each address keeps its durable value or any one of its pending writes. */
  image(rand: () => number): MemBlockDevice {
    const out = new Map(this.durable);
    const byAddr = new Map<number, Uint8Array[]>();
    for (const p of this.pending) byAddr.set(p.addr, [...(byAddr.get(p.addr) ?? []), p.data]);
    for (const [a, vs] of byAddr) {
      const i = Math.floor(rand() * (vs.length + 1));
      if (i < vs.length) out.set(a, vs[i]);
    }
    const m = new MemBlockDevice({ numBlocks: this.numBlocks, blockSize: BS });
    for (const [a, b] of out) void m.write(a, b);
    return m;
  }
}

export const u32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(0);
export function block(v: number): Uint8Array {
  const b = new Uint8Array(BS);
  const d = new DataView(b.buffer);
  for (let i = 0; i < BS; i += 4) d.setUint32(i, v);
  return b;
}
const whole = (b: Uint8Array) => {
  const v = u32(b);
  const d = new DataView(b.buffer, b.byteOffset);
  for (let i = 0; i < BS; i += 4) if (d.getUint32(i) !== v) return false;
  return true;
};

export interface Progress {
  started: number[];
  acked: number[];
  counterAcked: number;
  counterStarted: number;
}

/**
 * Client c owns addresses 2c and 2c+1 (a pair always written together, value = its step
 * count) and, every third step, also increments the shared counter; odd steps are
 * one-block write()s to a third private address 16+c (value = step).
 */
export async function client(disk: LogDisk, c: number, steps: number, p: Progress, rand: () => number): Promise<void> {
  for (let s = 1; s <= steps; s++) {
    p.started[c] = s;
    const bump = s % 3 === 0;
    if (bump) p.counterStarted++;
    if (s % 2 === 1 && !bump) {
      await disk.write(16 + c, block(s));
    } else {
      await disk.transaction(async (t) => {
        const a = u32(await t.read(2 * c));
        const b = u32(await t.read(2 * c + 1));
        expect(a, 'a transaction sees its client’s pair whole').toBe(b);
        if (rand() < 0.5) await new Promise<void>((r) => setImmediate(r));
        t.write(2 * c, block(s));
        t.write(2 * c + 1, block(s));
        t.write(16 + c, block(s));
        if (bump) t.write(SHARED, block(u32(await t.read(SHARED)) + 1));
      });
    }
    p.acked[c] = s;
    if (bump) p.counterAcked++;
  }
}

/** What a client's addresses may hold after it acked `acked` and started `started` steps. */
export function checkClient(vals: Map<number, number>, c: number, acked: number, started: number, where: string) {
  const x = vals.get(2 * c)!;
  const y = vals.get(2 * c + 1)!;
  expect(x, `${where}: client ${c}'s pair is whole`).toBe(y);
  // The pair is written at even steps and multiples of 3; the last such step within [0, started].
  const pairSteps = (k: number) => {
    for (let s = k; s > 0; s--) if (s % 2 === 0 || s % 3 === 0) return s;
    return 0;
  };
  expect(x, `${where}: client ${c}'s pair holds no unacknowledged-then-lost or future step`).toBeGreaterThanOrEqual(pairSteps(acked));
  expect(x).toBeLessThanOrEqual(pairSteps(started));
  const z = vals.get(16 + c)!;
  expect(z, `${where}: client ${c}'s third address`).toBeGreaterThanOrEqual(acked);
  expect(z).toBeLessThanOrEqual(started);
  expect(z).toBeGreaterThanOrEqual(x);
}

export async function readAll(disk: LogDisk): Promise<Map<number, number>> {
  const m = new Map<number, number>();
  for (let a = 0; a < DATA; a++) {
    const b = await disk.read(a);
    expect(whole(b), `address ${a} holds one value`).toBe(true);
    m.set(a, u32(b));
  }
  return m;
}

export const CLIENTS = 5;
export const STEPS = 9;
