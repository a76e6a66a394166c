import type { BenchResults, Target } from './results.ts';
import { meets } from './rounds.ts';

function ratio(r: Pick<BenchResults, 'groups'>, ours: string, baseline: string): number | undefined {
  for (const g of r.groups) {
    for (const x of g.ratios) if (x.ours === ours && x.baseline === baseline && x.spread.n > 0) return x.spread.median;
  }
  return undefined;
}

/** The targets, each checked against the median of the per-round ratios. */
export function checkTargets(r: Pick<BenchResults, 'groups' | 'recovery'>): Target[] {
  const t = (name: string, value: number | undefined, threshold: number): Target => ({
    name,
    value,
    unit: '×',
    threshold,
    met: meets(value, threshold),
  });
  const gib = r.recovery.points.find((p) => p.sizeMiB === 1024);
  const biggest = r.recovery.points.at(-1);
  const rec = gib ?? biggest;
  return [
    t('store, 16 clients, 1-block tx ≥ 3× SQLite', ratio(r, 'store.1block.c16', 'sqlite.1block'), 3),
    t('store, 1 client, 1-block tx ≥ 1× SQLite', ratio(r, 'store.1block.c1', 'sqlite.1block'), 1),
    t('ReplicatedDisk 16 writers ≥ 0.8× raw two-file limit (16 in flight)', ratio(r, 'replicated.c16', 'raw.2file.c16'), 0.8),
    {
      name: `recovery of a ${rec ? fmtMiB(rec.sizeMiB) : '1 GiB'} store after a crash (report only)`,
      value: rec?.seconds.median,
      unit: 's',
      met: rec && rec.seconds.n > 0 ? gib !== undefined : null,
    },
  ];
}

export function fmtMiB(mib: number): string {
  return mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`;
}
