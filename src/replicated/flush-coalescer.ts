/**
 * Shares flushes between concurrent callers. A flush covers only the writes that came
 * before it started, so a caller that arrives while one is running waits for the next
 * one; every caller that arrives during the same running flush shares that next one.
 * Under load this is one device flush per round, whatever the number of callers.
 */
export class FlushCoalescer {
  readonly #flush: () => Promise<void>;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  /** Device flushes actually issued (for measurement). */
  flushes = 0;

  constructor(flush: () => Promise<void>) {
    this.#flush = flush;
  }

  flush(): Promise<void> {
    if (!this.#running) return this.#start();
    this.#next ??= this.#running.then(
      () => this.#startNext(),
      () => this.#startNext(),
    );
    return this.#next;
  }

  #startNext(): Promise<void> {
    this.#next = undefined;
    return this.#start();
  }

  #start(): Promise<void> {
    this.flushes++;
    const p: Promise<void> = this.#flush().finally(() => {
      if (this.#running === p) this.#running = undefined;
    });
    this.#running = p;
    return p;
  }
}
