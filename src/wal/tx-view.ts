import { checkAddress, checkBlock } from '../device/validate.ts';
import { ClosedError } from '../errors.ts';
import type { Transaction } from './transactional-disk.ts';

/** What a transaction view needs from the disk under it. */
export interface TxSource {
  readonly blockSize: number;
  readonly numBlocks: number;
  /** The version (seq of the last committed writer, 0 if unknown) of an address, now. */
  versionOf(addr: number): number;
  /** Reads committed, durable data. */
  readCommitted(addr: number): Promise<Uint8Array>;
}

/**
 * One run of a transaction function: buffers its writes and records the version of each
 * address it read, taken before the read starts, so that a commit that lands during the
 * read shows up as a version change at validation (a false conflict at worst, never a
 * missed one).
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
    this.#checkLive();
    checkAddress(addr, this.numBlocks);
    const own = this.writes.get(addr);
    if (own) return own.slice();
    if (!this.reads.has(addr)) this.reads.set(addr, this.#src.versionOf(addr));
    return this.#src.readCommitted(addr);
  }

  write(addr: number, data: Uint8Array): void {
    this.#checkLive();
    checkAddress(addr, this.numBlocks);
    checkBlock(data, this.blockSize);
    this.writes.set(addr, new Uint8Array(data));
  }

  /** Ends this run: later calls through a leaked reference are refused. */
  finish(): void {
    this.#done = true;
  }

  #checkLive(): void {
    if (this.#done) throw new ClosedError('transaction');
  }
}
