/**
 * The mailbox locks of pickup(): in memory only, so a crash (or a restart) leaves every
 * mailbox unlocked, which is what the mail spec says. Waiters are served in arrival order
 * so a busy mailbox cannot starve a reader. The queue is bounded by the number of callers.
 */
export class MailboxLocks {
  readonly #held = new Set<number>();
  readonly #waiters = new Map<number, (() => void)[]>();

  isLocked(slot: number): boolean {
    return this.#held.has(slot);
  }

  /** Takes the lock if free; false if another reader holds it. */
  tryAcquire(slot: number): boolean {
    if (this.#held.has(slot)) return false;
    this.#held.add(slot);
    return true;
  }

  /** Waits for the lock. */
  acquire(slot: number): Promise<void> {
    if (this.tryAcquire(slot)) return Promise.resolve();
    return new Promise((resolve) => {
      let q = this.#waiters.get(slot);
      if (!q) this.#waiters.set(slot, (q = []));
      q.push(resolve);
    });
  }

  /** Releases the lock, handing it straight to the next waiter if any. */
  release(slot: number): void {
    const q = this.#waiters.get(slot);
    const next = q?.shift();
    if (q && q.length === 0) this.#waiters.delete(slot);
    if (next) next();
    else this.#held.delete(slot);
  }
}
