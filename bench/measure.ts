import { performance } from 'node:perf_hooks';
import type { TrialResult } from './contender.ts';
import { payload, txAddresses, type Stripes } from './workload.ts';

/** Samples RSS at most every `everyMs`, cheaply enough to call after every operation. */
export class RssSampler {
  peakBytes = process.memoryUsage.rss();
  #last = performance.now();
  readonly #everyMs: number;

  constructor(everyMs = 10) {
    this.#everyMs = everyMs;
  }

  tick(): void {
    const now = performance.now();
    if (now - this.#last < this.#everyMs) return;
    this.#last = now;
    this.sample();
  }

  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peakBytes) this.peakBytes = rss;
  }
}

export interface LoopOptions {
  durationMs: number;
  /** Concurrent clients, each running op after op until the deadline. */
  clients: number;
  /** Runs one operation for a client; `seq` counts that client's operations. */
  op: (client: number, seq: number) => Promise<void> | void;
  blocksPerOp?: number;
}

/**
 * Runs `clients` closed loops until the deadline and counts completed operations. An
 * operation in flight at the deadline is waited for and counted, and the elapsed time
 * runs to when the last one finished, so the rate is never flattered by a cut-off.
 */
export async function closedLoop(opts: LoopOptions): Promise<TrialResult> {
  const rss = new RssSampler();
  const start = performance.now();
  const deadline = start + opts.durationMs;
  let ops = 0;
  const client = async (c: number) => {
    // Let every client start before the first one runs a synchronous burst.
    await Promise.resolve();
    for (let seq = 0; performance.now() < deadline; seq++) {
      await opts.op(c, seq);
      ops++;
      rss.tick();
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, (_, c) => client(c)));
  const elapsedMs = performance.now() - start;
  rss.sample();
  return { ops, elapsedMs, rssPeakBytes: rss.peakBytes, blocksPerOp: opts.blocksPerOp };
}

/**
 * Closed loops of one durable block write per operation, the disk group's unit: client c's
 * seq-th operation writes payload(c, seq, 0) at its stripe's next address, so every
 * contender of the group writes the same blocks in the same order.
 */
export function blockWriteLoop(
  durationMs: number,
  clients: number,
  s: Stripes,
  writeDurably: (addr: number, block: Buffer) => Promise<void>,
): Promise<TrialResult> {
  return closedLoop({
    durationMs,
    clients,
    blocksPerOp: 1,
    op: (c, seq) => writeDurably(txAddresses(s, c, seq, 1)[0], payload(c, seq, 0)),
  });
}

/** A serial loop of a synchronous operation (SQLite through better-sqlite3 blocks the thread). */
export function syncLoop(durationMs: number, op: (seq: number) => void, blocksPerOp?: number): TrialResult {
  const rss = new RssSampler();
  const start = performance.now();
  const deadline = start + durationMs;
  let ops = 0;
  for (let seq = 0; performance.now() < deadline; seq++) {
    op(seq);
    ops++;
    rss.tick();
  }
  const elapsedMs = performance.now() - start;
  rss.sample();
  return { ops, elapsedMs, rssPeakBytes: rss.peakBytes, blocksPerOp };
}
