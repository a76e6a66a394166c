import { describe, expect, it } from 'vitest';
import { alternation, median, meets, pairRatios, quantile, spread } from '../bench/rounds.ts';
import { checkTargets } from '../bench/targets.ts';
import type { GroupResult } from '../bench/run-group.ts';
import { stripes, txAddresses } from '../bench/workload.ts';

describe('bench statistics', () => {
  it('median of odd and even counts, whatever the input order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(Number.isNaN(median([]))).toBe(true);
  });

  it('quantiles interpolate between order statistics', () => {
    const xs = [10, 20, 30, 40, 50];
    expect(quantile(xs, 0)).toBe(10);
    expect(quantile(xs, 1)).toBe(50);
    expect(quantile(xs, 0.25)).toBe(20);
    expect(quantile([1, 2], 0.25)).toBe(1.25);
    expect(() => quantile(xs, 1.5)).toThrow(RangeError);
  });

  it('spread gives median, min, max and quartiles', () => {
    expect(spread([3, 1, 4, 1, 5])).toEqual({ n: 5, median: 3, min: 1, max: 5, q1: 1, q3: 4 });
    expect(spread([]).n).toBe(0);
  });

  it('ratios are taken pair by pair within each round, not from the medians', () => {
    // Medians would give 20/10 = 2; the per-round ratios are 1, 4 and 1.5.
    const ours = [10, 40, 30];
    const base = [10, 10, 20];
    expect(pairRatios(ours, base)).toEqual([1, 4, 1.5]);
    expect(median(pairRatios(ours, base))).toBe(1.5);
  });

  it('rounds where a side is missing or the baseline is zero are skipped', () => {
    expect(pairRatios([2, Number.NaN, 6, 8], [1, 1, 0, 4])).toEqual([2, 2]);
    expect(pairRatios([2, 4], [1])).toEqual([2]);
  });

  it('alternation runs every contender once per round, in order: A B A B', () => {
    const order = alternation(2, 3).map((s) => 'AB'[s.index] + s.round);
    expect(order).toEqual(['A0', 'B0', 'A1', 'B1', 'A2', 'B2']);
    expect(alternation(3, 1).map((s) => s.index)).toEqual([0, 1, 2]);
    expect(alternation(0, 5)).toEqual([]);
    expect(() => alternation(2, -1)).toThrow(RangeError);
  });

  it('meets says null when a figure was not measured', () => {
    expect(meets(3, 3)).toBe(true);
    expect(meets(2.99, 3)).toBe(false);
    expect(meets(undefined, 3)).toBe(null);
    expect(meets(Number.NaN, 3)).toBe(null);
  });

  it('targets read the per-round ratio medians of the named pairs', () => {
    const ratio = (ours: string, baseline: string, samples: number[]) => ({ ours, baseline, samples, spread: spread(samples) });
    const groups = [
      { id: 'store-1block', ratios: [ratio('store.1block.c16', 'sqlite.1block', [2, 4, 3.5]), ratio('store.1block.c1', 'sqlite.1block', [0.5, 0.9, 0.7])] },
      { id: 'disk', ratios: [ratio('replicated.c16', 'raw.2file.c16', [0.9, 0.8, 1])] },
    ] as unknown as GroupResult[];
    const targets = checkTargets({ groups, recovery: { status: 'missing', detail: '', points: [] } });
    expect(targets.map((t) => t.met)).toEqual([true, false, true, null]);
    expect(targets[0].value).toBe(3.5);
  });

  it('workload stripes keep clients on disjoint addresses', () => {
    const s = stripes(4, 64);
    const seen = new Map<number, number>();
    for (let c = 0; c < 4; c++) {
      for (let seq = 0; seq < 50; seq++) {
        const addrs = txAddresses(s, c, seq, 8);
        expect(new Set(addrs).size).toBe(8);
        for (const a of addrs) {
          expect(a).toBeGreaterThanOrEqual(0);
          expect(a).toBeLessThan(64);
          if (seen.has(a)) expect(seen.get(a)).toBe(c);
          seen.set(a, c);
        }
      }
    }
  });
});
