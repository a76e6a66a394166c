/** What one trial of a contender measured. */
export interface TrialResult {
  /** Operations completed (durable writes, transactions, requests…). */
  ops: number;
  elapsedMs: number;
  /** Highest resident set size sampled while the trial ran. */
  rssPeakBytes: number;
  /** Blocks written per operation, so that blocks/s can be derived. */
  blocksPerOp?: number;
}

/**
 * How to build a contender again in another process (see isolated.ts): the factory and
 * its arguments, nothing that cannot go through JSON.
 */
export type ContenderSpec =
  | { type: 'raw'; files: 1 | 2; clients: number }
  | { type: 'io'; style: 'sync' | 'handle'; durable: boolean }
  | { type: 'replicated'; clients: number }
  | { type: 'sqlite'; blocksPerTx: number; addressSpace: number }
  | { type: 'store'; blocksPerTx: number; clients: number };

/**
 * Something measured in rounds. setup() runs once before the group's first round and
 * teardown() once after its last, so files stay open across rounds and only the
 * measured loop is timed.
 */
export interface Contender {
  /** Stable id used in JSON and ratios, e.g. `store.1block.c16`. */
  id: string;
  /** Human label for the table and charts. */
  label: string;
  /** `ours`: twindisk code; `baseline`: what a user would pick instead; `limit`: the raw device. */
  kind: 'ours' | 'baseline' | 'limit';
  /** Concurrent clients (for charts); 1 for serial. */
  clients: number;
  /** Present when the contender can run in a process of its own (for a per-contender peak RSS). */
  spec?: ContenderSpec;
  setup(): Promise<void>;
  trial(durationMs: number): Promise<TrialResult>;
  teardown(): Promise<void>;
}

/** Contenders that alternate in rounds, and the ratios ours/baseline taken within each round. */
export interface Group {
  id: string;
  title: string;
  /** What one operation is, for the table header ("durable writes", "transactions"). */
  opName: string;
  contenders: Contender[];
  ratios: { ours: string; baseline: string }[];
  /** Extra notes printed with the group (e.g. how SQLite's "clients" are run). */
  notes?: string[];
}
