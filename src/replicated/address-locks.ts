import { Mutex } from 'async-mutex';

/**
 * One lock per block address, created on first use and dropped as soon as nobody holds
 * or waits for it, so memory stays bounded by the number of addresses in use at once,
 * not by the size of the disk.
 */
export class AddressLocks {
  readonly #locks = new Map<number, { mutex: Mutex; users: number }>();

  /** Addresses with a live lock (held or awaited). For tests of the bound. */
  get size(): number {
    return this.#locks.size;
  }

  async withLock<T>(addr: number, fn: () => Promise<T>): Promise<T> {
    let entry = this.#locks.get(addr);
    if (!entry) {
      entry = { mutex: new Mutex(), users: 0 };
      this.#locks.set(addr, entry);
    }
    entry.users++;
    try {
      return await entry.mutex.runExclusive(fn);
    } finally {
      if (--entry.users === 0) this.#locks.delete(addr);
    }
  }

  /**
   * Holds the locks of several addresses. They are taken in ascending order, the one
   * global order every caller uses, so two callers can never wait on each other.
   */
  async withLocks<T>(addrs: readonly number[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(addrs)].sort((a, b) => a - b);
    const take = (i: number): Promise<T> => (i === sorted.length ? fn() : this.withLock(sorted[i], () => take(i + 1)));
    return take(0);
  }
}
