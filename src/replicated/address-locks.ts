/** A held lock: null while nobody waits (no allocation), else its waiters in arrival order. */
type Entry = (() => void)[] | null;

/**
 * One lock per block address, created on first use and dropped as soon as nobody holds
 * or waits for it, so memory stays bounded by the number of addresses in use at once,
 * not by the size of the disk.
 *
 * A lock is a map entry: present means held. Taking a free lock is one map lookup and
 * insert, with no promise, no await and no allocation, which is the common case (a replicated disk under
 * a write-ahead log rarely sees two writes to one address at once); only a caller that
 * finds the lock held waits, in FIFO order, and the holder hands the lock straight to the
 * next waiter on release.
 */
export class AddressLocks {
  readonly #locks = new Map<number, Entry>();

  /** Addresses with a live lock (held or awaited). For tests of the bound. */
  get size(): number {
    return this.#locks.size;
  }

  async withLock<T>(addr: number, fn: () => Promise<T>): Promise<T> {
    const wait = this.#acquire(addr);
    if (wait) await wait;
    try {
      return await fn();
    } finally {
      this.#release(addr);
    }
  }

  /**
   * Holds the locks of several addresses. They are taken in ascending order, the one
   * global order every caller uses, so two callers can never wait on each other.
   */
  async withLocks<T>(addrs: readonly number[], fn: () => Promise<T>): Promise<T> {
    // Callers mostly pass a run of consecutive addresses (a writev), already in order and
    // distinct: take it as it is rather than building a set and sorting.
    const sorted = strictlyAscending(addrs) ? addrs : [...new Set(addrs)].sort((a, b) => a - b);
    let held = 0;
    try {
      for (; held < sorted.length; held++) {
        const wait = this.#acquire(sorted[held]);
        if (wait) await wait;
      }
      return await fn();
    } finally {
      // A lock is counted as held only once its wait is over; a throw cannot happen between.
      for (let i = held - 1; i >= 0; i--) this.#release(sorted[i]);
    }
  }

  /** Takes the lock now (undefined), or returns a promise that resolves when it is ours. */
  #acquire(addr: number): Promise<void> | undefined {
    const e = this.#locks.get(addr);
    if (e === undefined) {
      this.#locks.set(addr, null);
      return undefined;
    }
    let waiters = e;
    if (waiters === null) this.#locks.set(addr, (waiters = []));
    const q = waiters;
    return new Promise<void>((resolve) => q.push(resolve));
  }

  #release(addr: number): void {
    const e = this.#locks.get(addr);
    if (e === undefined) return;
    const next = e === null ? undefined : e.shift();
    if (next) next();
    else this.#locks.delete(addr);
  }
}

function strictlyAscending(addrs: readonly number[]): boolean {
  for (let i = 1; i < addrs.length; i++) if (!(addrs[i] > addrs[i - 1])) return false;
  return true;
}
