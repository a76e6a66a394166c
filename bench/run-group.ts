import type { Contender, Group, TrialResult } from './contender.ts';
import type { Profile } from './profile.ts';
import { alternation, pairRatios, spread, type Spread } from './rounds.ts';

export interface ContenderResult {
  id: string;
  label: string;
  kind: Contender['kind'];
  clients: number;
  /** Operations per second, one sample per round (index = round). */
  samples: number[];
  opsPerSec: Spread;
  /** Blocks written per second, when an operation writes a known number of blocks. */
  blocksPerSec?: Spread;
  /** Highest RSS sampled while this contender's trials ran (one process: includes what the others left). */
  rssPeakBytes: number;
}

export interface RatioResult {
  ours: string;
  baseline: string;
  /** ours/baseline within each round. */
  samples: number[];
  spread: Spread;
}

export interface GroupResult {
  id: string;
  title: string;
  opName: string;
  notes: string[];
  contenders: ContenderResult[];
  ratios: RatioResult[];
}

export type Progress = (msg: string) => void;

/**
 * Runs a group: set every contender up, give each an untimed warm-up trial, then the
 * rounds (A B … A B …), then tear down. A contender whose setup fails is reported and
 * the rest still run.
 */
export async function runGroup(
  group: Group,
  profile: Profile,
  progress: Progress,
  wrap: (c: Contender) => Contender = (c) => c,
): Promise<GroupResult> {
  const n = group.contenders.length;
  const runners = group.contenders.map(wrap);
  const trials: (TrialResult | undefined)[][] = group.contenders.map(() => []);
  const notes = [...(group.notes ?? [])];
  const live: boolean[] = [];
  for (const c of runners) {
    try {
      await c.setup();
      await c.trial(profile.warmupMs);
      live.push(true);
    } catch (err) {
      live.push(false);
      await c.teardown().catch(() => undefined);
      notes.push(`${c.id} could not run: ${(err as Error).message}`);
      progress(`  ${c.id}: setup failed: ${(err as Error).message}`);
    }
  }
  try {
    for (const slot of alternation(n, profile.rounds)) {
      if (!live[slot.index]) continue;
      const c = runners[slot.index];
      const t = await c.trial(profile.trialMs);
      trials[slot.index][slot.round] = t;
      progress(`  ${group.id} round ${slot.round + 1}/${profile.rounds} ${c.id}: ${fmtRate((t.ops * 1000) / t.elapsedMs)} ${group.opName}/s`);
    }
  } finally {
    for (let i = 0; i < n; i++) if (live[i]) await runners[i].teardown().catch(() => undefined);
  }
  const contenders = group.contenders.map((c, i) => summarize(c, trials[i]));
  const byId = new Map(contenders.map((c) => [c.id, c]));
  const ratios: RatioResult[] = group.ratios.map(({ ours, baseline }) => {
    const samples = pairRatios(byId.get(ours)?.samples ?? [], byId.get(baseline)?.samples ?? []);
    return { ours, baseline, samples, spread: spread(samples) };
  });
  return { id: group.id, title: group.title, opName: group.opName, notes, contenders, ratios };
}

function summarize(c: Contender, trials: (TrialResult | undefined)[]): ContenderResult {
  const done = trials.filter((t): t is TrialResult => t !== undefined);
  const samples = trials.map((t) => (t ? (t.ops * 1000) / t.elapsedMs : Number.NaN));
  const finite = samples.filter(Number.isFinite);
  const bpo = done[0]?.blocksPerOp;
  return {
    id: c.id,
    label: c.label,
    kind: c.kind,
    clients: c.clients,
    samples,
    opsPerSec: spread(finite),
    blocksPerSec: bpo && bpo > 1 ? spread(finite.map((x) => x * bpo)) : undefined,
    rssPeakBytes: Math.max(0, ...done.map((t) => t.rssPeakBytes)),
  };
}

export function fmtRate(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(1);
}
