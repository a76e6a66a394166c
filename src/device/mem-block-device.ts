import { AbstractBlockDevice } from './abstract-block-device.ts';

export interface MemBlockDeviceOptions {
  numBlocks: number;
  /** Bytes per block, 4096 unless given. */
  blockSize?: number;
}

/** Bytes per slab: big enough to make a write a memcpy into memory already there, small enough to keep sparse devices cheap. */
const SLAB_BYTES = 64 * 1024;

interface Slab {
  bytes: Uint8Array;
  /** 1 where a block was written (snapshot() lists only those). */
  written: Uint8Array;
}

/**
 * A device in memory. Every write is durable on return (there is no crash to survive),
 * so flush() only checks the device's state. Blocks never written read as zeros and take
 * no memory, so a large sparse device is cheap.
 *
 * Ownership: a write copies the caller's bytes into a slab (the device keeps no reference
 * to them), a read returns a fresh copy the caller owns. Blocks live in slabs of about
 * 64 KiB allocated on first write, so a write allocates nothing once its slab exists: on
 * the store's hot path that was one 4 KiB ArrayBuffer per block per disk, and most of the
 * garbage collector's work.
 */
export class MemBlockDevice extends AbstractBlockDevice {
  readonly #slabs = new Map<number, Slab>();
  readonly #perSlab: number;

  constructor(options: MemBlockDeviceOptions) {
    super(options?.numBlocks, options?.blockSize ?? 4096);
    this.#perSlab = Math.max(1, Math.floor(SLAB_BYTES / this.blockSize));
  }

  /** Fails the device on purpose (fail-stop), as a dead disk would. */
  fail(reason = 'failed on purpose'): void {
    this.markFailed(reason);
  }

  /** Copies out every written block, for tests and tools that compare devices. */
  snapshot(): Map<number, Uint8Array> {
    const out = new Map<number, Uint8Array>();
    const bs = this.blockSize;
    for (const s of [...this.#slabs.keys()].sort((a, b) => a - b)) {
      const slab = this.#slabs.get(s)!;
      for (let i = 0; i < this.#perSlab; i++) {
        if (slab.written[i]) out.set(s * this.#perSlab + i, slab.bytes.slice(i * bs, (i + 1) * bs));
      }
    }
    return out;
  }

  protected async _read(addr: number): Promise<Uint8Array> {
    const slab = this.#slabs.get(Math.floor(addr / this.#perSlab));
    if (!slab) return new Uint8Array(this.blockSize);
    const off = (addr % this.#perSlab) * this.blockSize;
    return slab.bytes.slice(off, off + this.blockSize);
  }

  protected async _write(addr: number, data: Uint8Array): Promise<void> {
    this.#put(addr, data);
  }

  protected override async _writev(addr: number, blocks: readonly Uint8Array[]): Promise<void> {
    for (let i = 0; i < blocks.length; i++) this.#put(addr + i, blocks[i]);
  }

  protected async _flush(): Promise<void> {}

  protected async _close(): Promise<void> {}

  #put(addr: number, data: Uint8Array): void {
    const s = Math.floor(addr / this.#perSlab);
    let slab = this.#slabs.get(s);
    if (!slab) {
      slab = { bytes: new Uint8Array(this.#perSlab * this.blockSize), written: new Uint8Array(this.#perSlab) };
      this.#slabs.set(s, slab);
    }
    const i = addr % this.#perSlab;
    // A copy into the slab: the caller may reuse `data` as soon as the call returns.
    slab.bytes.set(data, i * this.blockSize);
    slab.written[i] = 1;
  }
}
