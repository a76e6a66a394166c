import { AbstractBlockDevice } from '../../src/device/abstract-block-device.ts';
import type { BlockDevice } from '../../src/device/block-device.ts';
import type { DiskLabel, LabelledBlockDevice } from '../../src/device/disk-label.ts';
import { MemBlockDevice } from '../../src/device/mem-block-device.ts';

/** Thrown by a CrashingDevice once the world has stopped. */
export class Crashed extends Error {}

/**
 * Shared write counter for a set of devices: after `limit` writes (flushes count too) every
 * later write or flush throws Crashed and changes nothing, which models the process dying
 * at that instant on synchronous disks.
 */
export class CrashClock {
  count = 0;
  constructor(public limit = Infinity) {}
  tick(): void {
    if (this.count >= this.limit) throw new Crashed(`crashed after ${this.limit} writes`);
    this.count++;
  }
  get crashed(): boolean {
    return this.count >= this.limit;
  }
}

/** A memory device that writes through a CrashClock; its `inner` survives the crash. */
export class CrashingDevice extends AbstractBlockDevice implements LabelledBlockDevice {
  label: DiskLabel;
  constructor(readonly inner: MemBlockDevice, readonly clock: CrashClock, label: DiskLabel) {
    super(inner.numBlocks, inner.blockSize);
    this.label = label;
  }
  async setLabel(label: DiskLabel): Promise<void> {
    this.clock.tick();
    this.label = label;
  }
  protected async _read(addr: number) {
    if (this.clock.crashed) throw new Crashed('crashed');
    return this.inner.read(addr);
  }
  protected async _write(addr: number, data: Uint8Array) {
    this.clock.tick();
    await this.inner.write(addr, data);
  }
  protected async _flush() {
    this.clock.tick();
  }
  protected async _close() {}
}

/** Wraps a device so that every call yields to the event loop a random number of times first. */
export function jittery(dev: BlockDevice, rand: () => number): BlockDevice {
  const pause = async () => {
    const n = Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
  };
  return {
    blockSize: dev.blockSize,
    numBlocks: dev.numBlocks,
    read: async (a) => (await pause(), dev.read(a)),
    write: async (a, d) => (await pause(), dev.write(a, d)),
    flush: async () => (await pause(), dev.flush()),
    close: () => dev.close(),
  };
}

export function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/**
 * A labelled device with a volatile write cache: writes land in the cache, flush() makes
 * them durable, and powerLoss() returns a new healthy device holding only what was durable.
 * Hooks let a test fail it after some reads or hold its label write.
 */
export class CachedDevice extends AbstractBlockDevice implements LabelledBlockDevice {
  durable = new Map<number, Uint8Array>();
  cache = new Map<number, Uint8Array>();
  label: DiskLabel;
  durableLabel: DiskLabel;
  failAfterReads = Infinity;
  reads = 0;
  labelGate: Promise<void> | undefined;

  constructor(numBlocks: number, blockSize: number, label: DiskLabel) {
    super(numBlocks, blockSize);
    this.label = this.durableLabel = label;
  }
  async setLabel(label: DiskLabel): Promise<void> {
    this.checkUsable();
    if (this.labelGate) await this.labelGate;
    this.checkUsable();
    this.label = this.durableLabel = label;
    await this._flush();
  }
  fail(): void {
    this.markFailed('failed on purpose');
  }
  powerLoss(): CachedDevice {
    const d = new CachedDevice(this.numBlocks, this.blockSize, this.durableLabel);
    d.durable = new Map(this.durable);
    return d;
  }
  protected async _read(addr: number) {
    if (++this.reads > this.failAfterReads) {
      this.fail();
      this.checkUsable();
    }
    return (this.cache.get(addr) ?? this.durable.get(addr) ?? new Uint8Array(this.blockSize)).slice();
  }
  protected async _write(addr: number, data: Uint8Array) {
    await null;
    this.cache.set(addr, new Uint8Array(data));
  }
  protected async _flush() {
    await null;
    for (const [a, b] of this.cache) this.durable.set(a, b);
    this.cache.clear();
  }
  protected async _close() {}
}

/**
 * Puts every call of a device under fast-check's scheduler while `on.v` is true, so the
 * scheduler decides the order in which device operations take effect. Blocks are copied
 * at call time because the scheduler delays the call past the caller's await.
 */
export function scheduledDevice(dev: BlockDevice, s: { schedule<T>(p: Promise<T>, label?: string): Promise<T> }, on: { v: boolean }): BlockDevice {
  const wrap = <T>(label: string, f: () => Promise<T>) => (on.v ? s.schedule(Promise.resolve(label), label).then(f) : f());
  const out: BlockDevice = {
    blockSize: dev.blockSize,
    numBlocks: dev.numBlocks,
    read: (a) => wrap(`read ${a}`, () => dev.read(a)),
    write: (a, d) => {
      const copy = new Uint8Array(d);
      return wrap(`write ${a}`, () => dev.write(a, copy));
    },
    flush: () => wrap('flush', () => dev.flush()),
    close: async () => {},
  };
  if (dev.writev) {
    out.writev = (a, bs) => {
      const copies = bs.map((b) => new Uint8Array(b));
      return wrap(`writev ${a}+${bs.length}`, () => dev.writev!(a, copies));
    };
  }
  return out;
}

/** Keeps a memory device open across a layer's close(), so a test can open the same blocks again. */
export function keepOpen(m: BlockDevice): BlockDevice {
  return {
    blockSize: m.blockSize,
    numBlocks: m.numBlocks,
    read: (a) => m.read(a),
    write: (a, d) => m.write(a, d),
    writev: (a, bs) => (m.writev ? m.writev(a, bs) : Promise.reject(new Error('no writev'))),
    flush: () => m.flush(),
    close: async () => {},
  };
}

/** A new memory device holding a copy of m's written blocks (same geometry). */
export async function copyOfMem(m: MemBlockDevice): Promise<MemBlockDevice> {
  const c = new MemBlockDevice({ numBlocks: m.numBlocks, blockSize: m.blockSize });
  for (const [a, b] of m.snapshot()) await c.write(a, b);
  return c;
}
