import { ClosedError, DeviceFailedError, InvalidBufferError } from '../errors.ts';
import type { BlockDevice } from './block-device.ts';
import { checkAddress, checkBlock, checkGeometry, checkRange } from './validate.ts';

/**
 * Base class for devices: the public methods validate arguments and the device's state
 * (closed, failed), then call the protected implementer methods with clean input.
 * Implementations only write _read/_write/_flush/_close (and _writev if they can do better
 * than a loop). A device that throws from an implementer method is not failed
 * automatically; call markFailed() where an error means the medium is gone.
 */
export abstract class AbstractBlockDevice implements BlockDevice {
  readonly blockSize: number;
  readonly numBlocks: number;
  #closed = false;
  #failure: DeviceFailedError | undefined;

  constructor(numBlocks: number, blockSize: number) {
    checkGeometry(numBlocks, blockSize);
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Fail-stop: from now on every call rejects with DeviceFailedError. */
  markFailed(reason = 'the device has failed', cause?: unknown): void {
    this.#failure ??= new DeviceFailedError(reason, { cause });
  }

  protected checkUsable(): void {
    if (this.#closed) throw new ClosedError('device');
    if (this.#failure) throw new DeviceFailedError(this.#failure.message, { cause: this.#failure });
  }

  async read(addr: number): Promise<Uint8Array> {
    this.checkUsable();
    checkAddress(addr, this.numBlocks);
    return this._read(addr);
  }

  async write(addr: number, data: Uint8Array): Promise<void> {
    this.checkUsable();
    checkAddress(addr, this.numBlocks);
    checkBlock(data, this.blockSize);
    return this._write(addr, data);
  }

  async writev(addr: number, blocks: readonly Uint8Array[]): Promise<void> {
    this.checkUsable();
    if (!Array.isArray(blocks)) throw new InvalidBufferError('writev takes an array of blocks');
    if (blocks.length === 0) return;
    checkRange(addr, blocks.length, this.numBlocks);
    for (const b of blocks) checkBlock(b, this.blockSize);
    return this._writev(addr, blocks);
  }

  async flush(): Promise<void> {
    this.checkUsable();
    return this._flush();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    return this._close();
  }

  protected abstract _read(addr: number): Promise<Uint8Array>;
  protected abstract _write(addr: number, data: Uint8Array): Promise<void>;
  protected abstract _flush(): Promise<void>;
  protected abstract _close(): Promise<void>;

  protected async _writev(addr: number, blocks: readonly Uint8Array[]): Promise<void> {
    for (let i = 0; i < blocks.length; i++) await this._write(addr + i, blocks[i]);
  }
}
