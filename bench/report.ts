import type { BenchResults, OptionalFigure } from './results.ts';
import type { Spread } from './rounds.ts';
import { fmtRate, type GroupResult } from './run-group.ts';
import { fmtMiB } from './targets.ts';

/** Renders rows as left-aligned columns (first column) and right-aligned numbers. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

export function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : '—';
}

function fmtMiBytes(bytes: number): string {
  return bytes > 0 ? `${Math.round(bytes / 2 ** 20)} MiB` : '—';
}

function range(s: Spread, f: (x: number) => string): string {
  return s.n > 0 ? `${f(s.min)}–${f(s.max)}` : '—';
}

function iqr(s: Spread, f: (x: number) => string): string {
  return s.n > 0 ? `${f(s.q1)}–${f(s.q3)}` : '—';
}

function labelOf(r: BenchResults, id: string): string {
  for (const g of r.groups) for (const c of g.contenders) if (c.id === id) return c.label;
  return id;
}

/** The ratios, ours/baseline, median of the per-round ratios: what the summary leads with. */
export function ratioTable(r: BenchResults): string {
  const rows: string[][] = [];
  for (const g of r.groups) {
    for (const x of g.ratios) {
      rows.push([`${labelOf(r, x.ours)}  /  ${labelOf(r, x.baseline)}`, fmtRatio(x.spread.median), range(x.spread, fmtRatio), String(x.spread.n)]);
    }
  }
  return table(['ours / baseline (same round)', 'median', 'min–max', 'rounds'], rows);
}

export function targetLines(r: BenchResults): string {
  return r.targets
    .map((t) => {
      const tag = t.met === null ? 'not measured' : t.met ? 'met' : 'not met';
      const v = t.value === undefined ? '—' : t.unit === '×' ? fmtRatio(t.value) : `${t.value.toFixed(2)} ${t.unit}`;
      return `  [${tag}] ${t.name}: ${v}`;
    })
    .join('\n');
}

export function groupTable(g: GroupResult): string {
  const rows = g.contenders.map((c) => [
    c.label,
    fmtRate(c.opsPerSec.median),
    iqr(c.opsPerSec, fmtRate),
    range(c.opsPerSec, fmtRate),
    c.blocksPerSec ? fmtRate(c.blocksPerSec.median) : '',
    fmtMiBytes(c.rssPeakBytes),
  ]);
  const head = [g.title, ...g.notes.map((n) => `  note: ${n}`)].join('\n');
  return `${head}\n${table([`contender`, `${g.opName}/s median`, 'IQR', 'min–max', 'blocks/s', 'peak RSS'], rows)}`;
}

export function recoveryTable(r: BenchResults): string {
  if (r.recovery.points.length === 0) return `Recovery after a crash: ${r.recovery.status} (${r.recovery.detail})`;
  const rows = r.recovery.points.map((p) => [
    fmtMiB(p.sizeMiB),
    p.diskBlocks.toLocaleString('en-US'),
    p.seconds.median.toFixed(2),
    range(p.seconds, (x) => x.toFixed(2)),
    String(p.seconds.n),
    fmtMiBytes(p.rssPeakBytes),
  ]);
  return `Recovery after a crash (SIGKILL of a writing child, then openStore timed in a fresh process)\n  note: ${r.recovery.detail}\n${table(
    ['store size (per disk)', 'blocks per disk', 'median s', 'min–max s', 'reps', 'peak RSS'],
    rows,
  )}`;
}

function optional(name: string, f: OptionalFigure): string {
  if (f.status !== 'measured' || f.value === undefined) return `${name}: ${f.status} — ${f.detail}`;
  return `${name}: ${fmtRate(f.value)} ${f.unit ?? ''} (${f.detail}; peak RSS ${fmtMiBytes(f.rssPeakBytes ?? 0)})`;
}

/** The whole terminal summary: ratios and targets first, then the details. */
export function summary(r: BenchResults): string {
  const m = r.meta;
  const parts = [
    `twindisk bench — profile ${m.profile}${m.dry ? ' (dry: tiny sizes, figures meaningless)' : ''}; ${m.rounds} rounds × ${m.trialMs} ms per trial; ` +
      `Node ${m.node}, ${m.cpus} CPUs (${m.cpuModel}), ${m.totalMemMiB} MiB RAM; files in ${m.scratchDir}; ${m.durationS.toFixed(0)} s`,
    '',
    'RATIOS (ours / baseline, per-round pairs, median)',
    ratioTable(r),
    '',
    'TARGETS',
    targetLines(r),
    '',
    ...r.groups.flatMap((g) => [groupTable(g), '']),
    recoveryTable(r),
    '',
    optional('Harness crash states checked', r.harness),
    optional('Mail requests', r.mail),
    `Peak RSS of the bench process: ${fmtMiBytes(r.processPeakRssBytes)}`,
    r.charts.length ? `Charts: ${r.charts.join(', ')}` : 'Charts: none written',
  ];
  return parts.join('\n');
}
