import { AbstractBlockDevice } from './abstract-block-device.ts';

export interface MemBlockDeviceOptions {
  numBlocks: number;
  /** Bytes per block, 4096 unless given. */
  blockSize?: number;
}

/**
 * A device in memory. Every write is durable on return (there is no crash to survive),
 * so flush() only checks the device's state. Blocks never written read as zeros and take
 * no memory, so a large sparse device is cheap.
 */
export class MemBlockDevice extends AbstractBlockDevice {
  readonly #blocks = new Map<number, Uint8Array>();

  constructor(options: MemBlockDeviceOptions) {
    super(options?.numBlocks, options?.blockSize ?? 4096);
  }

  /** Fails the device on purpose (fail-stop), as a dead disk would. */
  fail(reason = 'failed on purpose'): void {
    this.markFailed(reason);
  }

  /** Copies out every written block, for tests and tools that compare devices. */
  snapshot(): Map<number, Uint8Array> {
    return new Map([...this.#blocks].map(([a, b]) => [a, b.slice()]));
  }

  protected async _read(addr: number): Promise<Uint8Array> {
    const b = this.#blocks.get(addr);
    return b ? b.slice() : new Uint8Array(this.blockSize);
  }

  protected async _write(addr: number, data: Uint8Array): Promise<void> {
    // A plain Uint8Array copy: Buffer#slice would share memory with the caller's buffer.
    this.#blocks.set(addr, new Uint8Array(data));
  }

  protected async _flush(): Promise<void> {}

  protected async _close(): Promise<void> {}
}
