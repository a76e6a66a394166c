/**
 * The statistics of the benchmark, kept pure so that they can be tested without timing
 * anything: quantiles, the order in which contenders alternate, and ratios taken round
 * by round.
 *
 * Why rounds: this machine is shared and drifts (other jobs, page cache, CPU boost). If
 * contender A ran for a minute and then B for a minute, the drift between the minutes
 * would show up as a difference between A and B. Running A B A B … and dividing within
 * each round makes a slow minute slow for both, so it cancels in the ratio.
 */

export interface Spread {
  /** Number of samples. */
  n: number;
  median: number;
  min: number;
  max: number;
  /** First and third quartiles (linear interpolation between order statistics). */
  q1: number;
  q3: number;
}

/** Quantile q (0..1) of the samples, interpolating linearly between order statistics. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within 0..1, got ${q}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

export function spread(samples: readonly number[]): Spread {
  if (samples.length === 0) return { n: 0, median: Number.NaN, min: Number.NaN, max: Number.NaN, q1: Number.NaN, q3: Number.NaN };
  return {
    n: samples.length,
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    q1: quantile(samples, 0.25),
    q3: quantile(samples, 0.75),
  };
}

/**
 * Ratios ours/baseline taken pair by pair, round by round: ours[i] / baseline[i]. Rounds
 * where either side is missing (or the baseline is zero) are skipped rather than guessed.
 */
export function pairRatios(ours: readonly (number | undefined)[], baseline: readonly (number | undefined)[]): number[] {
  const out: number[] = [];
  const n = Math.min(ours.length, baseline.length);
  for (let i = 0; i < n; i++) {
    const a = ours[i];
    const b = baseline[i];
    if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) continue;
    out.push(a / b);
  }
  return out;
}

/** One scheduled trial: which round and which contender (by its index in the group). */
export interface Slot {
  round: number;
  index: number;
}

/**
 * The order in which a group's contenders run: every round runs each contender once, in
 * the order given (A B C, A B C, …), so each round holds one sample of each contender
 * taken close together in time.
 */
export function alternation(contenders: number, rounds: number): Slot[] {
  if (!Number.isInteger(contenders) || contenders < 0) throw new RangeError(`contenders must be a natural number, got ${contenders}`);
  if (!Number.isInteger(rounds) || rounds < 0) throw new RangeError(`rounds must be a natural number, got ${rounds}`);
  const slots: Slot[] = [];
  for (let round = 0; round < rounds; round++) {
    for (let index = 0; index < contenders; index++) slots.push({ round, index });
  }
  return slots;
}

/** Result of a target check. `null` when the figures needed were not measured. */
export function meets(value: number | undefined, threshold: number): boolean | null {
  if (value === undefined || !Number.isFinite(value)) return null;
  return value >= threshold;
}
