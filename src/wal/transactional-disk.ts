import type { BlockDevice } from '../device/block-device.ts';

/** The view a transaction function gets. */
export interface Transaction {
  readonly blockSize: number;
  /** Number of addressable data blocks. */
  readonly numBlocks: number;
  /**
   * Reads a block as this transaction sees it: its own writes first, then committed data.
   * The returned buffer is the caller's own copy.
   */
  read(addr: number): Promise<Uint8Array>;
  /**
   * Like read(), without the copy: the returned buffer may be shared with the store and
   * with other transactions, so the caller must never modify it. The store never modifies
   * it either (committed and buffered blocks are immutable), so it stays valid to read for
   * as long as the caller likes. It may be a view into a larger ArrayBuffer (mind byteOffset).
   */
  readShared(addr: number): Promise<Uint8Array>;
  /** Buffers a block write until commit. Validates at once (typed errors); keeps a copy of `data`. */
  write(addr: number, data: Uint8Array): void;
  /**
   * Like write(), without the copy: the transaction takes `data` itself, and the caller
   * must never modify it afterwards (it may be written to the log, kept as committed data
   * and handed to other readers by readShared()).
   */
  writeOwned(addr: number, data: Uint8Array): void;
}

/** What status() reports about a store. */
export interface StoreStatus {
  /** Per disk of the replicated pair (empty when the store sits on a single device). */
  disks: { index: number; state: 'ok' | 'failed' | 'rebuilding' }[];
  degraded: boolean;
  log: { usedBlocks: number; totalBlocks: number };
  dataBlocks: number;
  blockSize: number;
}

/**
 * A block device with atomic, durable multi-block transactions (the WAL layer's interface).
 *
 * - transaction(fn) runs fn against a private view; when fn resolves, all its writes
 *   become durable at once, before transaction() returns. If fn throws, nothing is written.
 *   Transactions are serializable. fn may be run more than once (a conflicting concurrent
 *   commit makes it retry), so it must not have side effects outside the transaction.
 * - write(addr, data) is a one-block transaction: durable when it returns.
 * - flush() is a barrier that is already satisfied by every returned commit.
 */
export interface TransactionalDisk extends BlockDevice {
  transaction<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T>;
  status(): StoreStatus;
}
