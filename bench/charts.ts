import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BenchResults } from './results.ts';

interface Point {
  series: string;
  /** ours / baseline / limit: baselines and limits are drawn dashed. */
  kind: string;
  clients: number;
  median: number;
  lo: number;
  hi: number;
}

/** Throughput against concurrency for the contenders of the given groups (median with min–max bars). */
function throughputPoints(r: BenchResults, groupIds: string[], perBlock: boolean): Point[] {
  const out: Point[] = [];
  for (const g of r.groups) {
    if (!groupIds.includes(g.id)) continue;
    for (const c of g.contenders) {
      const s = perBlock && c.blocksPerSec ? c.blocksPerSec : c.opsPerSec;
      if (s.n === 0) continue;
      // A serial baseline is a horizontal reference: its figure is the same whatever the store's client count.
      const series = seriesName(g.id, c.id);
      const xs = c.kind === 'baseline' && g.id.startsWith('store') ? clientLevels(g) : [c.clients];
      for (const clients of xs) out.push({ series, kind: c.kind === 'ours' ? 'twindisk' : 'reference', clients, median: s.median, lo: s.min, hi: s.max });
    }
  }
  return out;
}

function clientLevels(g: BenchResults['groups'][number]): number[] {
  return [...new Set(g.contenders.filter((c) => c.kind === 'ours').map((c) => c.clients))];
}

function seriesName(groupId: string, contenderId: string): string {
  const [kind, what] = contenderId.split('.');
  if (kind === 'store') return `twindisk store, ${what.replace('block', '-block')} tx`;
  if (kind === 'sqlite') return `SQLite (serial), ${what.replace('block', '-block')} tx`;
  if (kind === 'raw') return `raw write+fdatasync, ${what.replace('file', ' file')}${what === '2file' ? 's' : ''}`;
  if (kind === 'replicated') return 'ReplicatedDisk (write+flush)';
  return `${groupId}: ${contenderId}`;
}

function lineChart(title: string, points: unknown[], x: { field: string; title: string; log?: boolean }, y: { title: string; log?: boolean }): TopLevelSpec {
  const xEnc = { field: x.field, type: 'quantitative' as const, title: x.title, scale: x.log ? { type: 'log' as const, base: 2 } : { zero: true } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 520,
    height: 320,
    background: 'white',
    data: { values: points },
    encoding: { x: xEnc, color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 2, labelLimit: 320 } } },
    layer: [
      {
        mark: { type: 'rule', opacity: 0.6 },
        encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
      },
      {
        mark: { type: 'line', point: true },
        encoding: {
          strokeDash: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['twindisk', 'reference'], range: [[1, 0], [6, 3]] }, legend: null },
          y: { field: 'median', type: 'quantitative', title: y.title, scale: y.log ? { type: 'log' } : { zero: true } },
        },
      },
    ],
  } as TopLevelSpec;
}

async function render(spec: TopLevelSpec, dir: string, name: string): Promise<string[]> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const svgPath = join(dir, `${name}.svg`);
  const pngPath = join(dir, `${name}.png`);
  writeFileSync(svgPath, svg);
  const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'zoom', value: 2 } })
    .render()
    .asPng();
  writeFileSync(pngPath, png);
  return [svgPath, pngPath];
}

/** Writes the charts as SVG and PNG into `dir`; returns the paths written. */
export async function writeCharts(r: BenchResults, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const store = throughputPoints(r, ['store-1block', 'store-8block'], false);
  if (store.length) {
    const spec = lineChart('Durable transactions/s vs concurrent clients (median, min–max)', store, { field: 'clients', title: 'concurrent clients', log: true }, { title: 'transactions/s', log: true });
    written.push(...(await render(spec, dir, 'store-throughput')));
  }
  const big = throughputPoints(r, ['store-64block'], true);
  if (big.length) {
    const spec = lineChart('64-block transactions: durable blocks/s vs concurrent clients', big, { field: 'clients', title: 'concurrent clients', log: true }, { title: 'blocks/s' });
    written.push(...(await render(spec, dir, 'store-64block-throughput')));
  }
  const disk = throughputPoints(r, ['disk'], false);
  if (disk.length) {
    const spec = lineChart('Durable 4 KiB writes/s vs writers in flight', disk, { field: 'clients', title: 'writers in flight', log: true }, { title: 'writes/s' });
    written.push(...(await render(spec, dir, 'disk-throughput')));
  }
  const rec = r.recovery.points
    .filter((p) => p.seconds.n > 0)
    .map((p) => ({ series: 'openStore after SIGKILL', kind: 'twindisk', size: p.sizeMiB, median: p.seconds.median, lo: p.seconds.min, hi: p.seconds.max }));
  if (rec.length) {
    const spec = lineChart('Recovery time after a crash vs store size', rec, { field: 'size', title: 'store size per disk (MiB)' }, { title: 'seconds' });
    written.push(...(await render(spec, dir, 'recovery-time')));
  }
  return written;
}
