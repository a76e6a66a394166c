import { checkAddress, checkBlock } from '../device/validate.ts';
import { ClosedError } from '../errors.ts';
import type { Transaction } from './transactional-disk.ts';

/** What a transaction view needs from the disk under it. */
export interface TxSource {
  readonly blockSize: number;
  readonly numBlocks: number;
  /** The version (seq of the last committed writer, 0 if unknown) of an address, now. */
  versionOf(addr: number): number;
  /**
   * Reads committed, durable data. The buffer may be shared (the caller must not modify
   * it); the source never modifies it either.
   */
  readCommittedShared(addr: number): Promise<Uint8Array>;
  /** A copy of one block that the caller owns (cheaper than a fresh ArrayBuffer). */
  copyBlock(data: Uint8Array): Uint8Array;
}

/**
 * One run of a transaction function: buffers its writes and records the version of each
 * address it read, taken before the read starts, so that a commit that lands during the
 * read shows up as a version change at validation (a false conflict at worst, never a
 * missed one).
 *
 * Ownership: every buffer in `writes` is immutable from the moment it is put there (a
 * copy made by write(), or a buffer the caller gave up with writeOwned()). That is what
 * lets readShared() hand it out, and the log keep it as committed data without a copy.
 */
export class TxView implements Transaction {
  readonly blockSize: number;
  readonly numBlocks: number;
  readonly writes = new Map<number, Uint8Array>();
  readonly reads = new Map<number, number>();
  #src: TxSource;
  #done = false;

  constructor(src: TxSource) {
    this.#src = src;
    this.blockSize = src.blockSize;
    this.numBlocks = src.numBlocks;
  }

  async read(addr: number): Promise<Uint8Array> {
    // A whole ArrayBuffer of its own, as callers of read() may expect (.buffer is the block).
    return (await this.readShared(addr)).slice();
  }

  readShared(addr: number): Promise<Uint8Array> {
    try {
      this.#checkLive();
      checkAddress(addr, this.numBlocks);
    } catch (err) {
      return Promise.reject(err);
    }
    const own = this.writes.get(addr);
    if (own) return Promise.resolve(own);
    if (!this.reads.has(addr)) this.reads.set(addr, this.#src.versionOf(addr));
    return this.#src.readCommittedShared(addr);
  }

  write(addr: number, data: Uint8Array): void {
    this.#checkLive();
    checkAddress(addr, this.numBlocks);
    checkBlock(data, this.blockSize);
    this.writes.set(addr, this.#src.copyBlock(data));
  }

  writeOwned(addr: number, data: Uint8Array): void {
    this.#checkLive();
    checkAddress(addr, this.numBlocks);
    checkBlock(data, this.blockSize);
    this.writes.set(addr, data);
  }

  /** Ends this run: later calls through a leaked reference are refused. */
  finish(): void {
    this.#done = true;
  }

  #checkLive(): void {
    if (this.#done) throw new ClosedError('transaction');
  }
}
