import type { GroupResult } from './run-group.ts';
import type { Spread } from './rounds.ts';

/** A part of the run that depends on code that may not exist yet (harness, mail). */
export interface OptionalFigure {
  status: 'measured' | 'missing' | 'failed';
  /** Why it is missing or failed, or what was measured. */
  detail: string;
  value?: number;
  unit?: string;
  rssPeakBytes?: number;
  extra?: Record<string, unknown>;
}

export interface RecoveryPoint {
  sizeMiB: number;
  /** Blocks per disk image (data + log + reserved). */
  diskBlocks: number;
  /** Data blocks the store offers. */
  dataBlocks: number;
  /** Seconds of openStore() (replicated-disk resync, then log replay) after a SIGKILL, per repetition. */
  samples: number[];
  seconds: Spread;
  rssPeakBytes: number;
}

export interface RecoveryResult {
  status: 'measured' | 'missing' | 'failed';
  detail: string;
  points: RecoveryPoint[];
}

export interface Target {
  name: string;
  /** The measured figure (a ratio or seconds), undefined when not measured. */
  value?: number;
  unit: string;
  /** Threshold to reach; undefined for report-only targets. */
  threshold?: number;
  /** true met, false not met, null not measured; report-only targets are met when measured. */
  met: boolean | null;
}

export interface BenchResults {
  meta: {
    profile: string;
    dry: boolean;
    node: string;
    platform: string;
    cpus: number;
    cpuModel: string;
    totalMemMiB: number;
    scratchDir: string;
    startedAt: string;
    durationS: number;
    trialMs: number;
    rounds: number;
  };
  groups: GroupResult[];
  recovery: RecoveryResult;
  harness: OptionalFigure;
  mail: OptionalFigure;
  targets: Target[];
  /** Peak RSS of the whole bench process (getrusage). */
  processPeakRssBytes: number;
  charts: string[];
}
