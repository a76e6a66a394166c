import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const out = mkdtempSync(join(tmpdir(), 'twindisk-bench-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Checks the shape of a spread (numbers or NaN-turned-null), never its values: benchmarks are not tests. */
function expectSpread(s: unknown): void {
  expect(s).toEqual(
    expect.objectContaining({ n: expect.any(Number), median: expect.anything(), min: expect.anything(), max: expect.anything() }),
  );
}

describe('npm run bench -- --quick --dry', () => {
  it('runs every part and prints results JSON of the documented shape', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/cli.ts', '--quick', '--dry', '--json', '--out', out], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    // Progress and the table go to stderr; stdout is only the JSON.
    expect(run.stderr).toContain('TARGETS');
    const r = JSON.parse(run.stdout);

    expect(r.meta).toEqual(expect.objectContaining({ profile: 'dry', dry: true, node: process.version, cpus: expect.any(Number) }));
    const ids = r.groups.map((g: { id: string }) => g.id);
    expect(ids).toEqual(['io-style', 'disk', 'store-1block', 'store-8block', 'store-64block']);
    for (const g of r.groups) {
      expect(g.contenders.length).toBeGreaterThan(0);
      for (const c of g.contenders) {
        expect(['ours', 'baseline', 'limit']).toContain(c.kind);
        expect(c.samples).toHaveLength(r.meta.rounds);
        expectSpread(c.opsPerSec);
        expect(c.rssPeakBytes).toBeGreaterThan(0);
      }
      for (const x of g.ratios) {
        expect(g.contenders.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining([x.ours, x.baseline]));
        expectSpread(x.spread);
      }
    }
    const disk = r.groups.find((g: { id: string }) => g.id === 'disk');
    expect(disk.contenders.map((c: { id: string }) => c.id)).toEqual(
      expect.arrayContaining(['raw.1file.c1', 'raw.1file.c16', 'raw.2file.c1', 'raw.2file.c16', 'replicated.c1', 'replicated.c16']),
    );
    expect(disk.ratios.map((x: { ours: string }) => x.ours)).toEqual(['replicated.c1', 'replicated.c16']);

    expect(r.targets).toHaveLength(4);
    for (const t of r.targets) expect([true, false, null]).toContain(t.met);
    expect(['measured', 'missing', 'failed']).toContain(r.recovery.status);
    for (const f of [r.harness, r.mail]) expect(['measured', 'missing', 'failed']).toContain(f.status);

    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).groups).toHaveLength(5);
    expect(r.charts.length).toBeGreaterThan(0);
    for (const p of r.charts) expect(existsSync(p), p).toBe(true);
    expect(r.charts.some((p: string) => p.endsWith('.png'))).toBe(true);
  });
});
