import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileBlockDevice } from '../../src/device/file-block-device.ts';
import { ReplicatedDisk } from '../../src/replicated/replicated-disk.ts';
import { LogDisk } from '../../src/wal/log-disk.ts';
import { showHistory } from '../explore.ts';
import { entriesOf, History, type HistoryEvent } from '../spec/history.ts';
import { checkHistory } from '../spec/linearizability.ts';
import { transactionalDiskSpec } from '../spec/transactional-disk.ts';
import { readBackDisk } from '../targets/disk-target.ts';
import { FILE_DATA_BLOCKS } from './workload.ts';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RealKillPoint {
  k: number;
  /** 'killed' when the child died of SIGKILL at k; 'finished' when the workload ended first. */
  outcome: 'killed' | 'finished';
  verdict: 'ok' | 'violation' | 'unknown';
  detail?: string;
  history?: string[];
}

export interface RealKillResult {
  points: number;
  checked: RealKillPoint[];
  ms: number;
}

function runChild(dir: string, k: number): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(k)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Reopens the files the child left, recovers the stack, reads back and checks against the child's history. */
async function checkAfterKill(dir: string, k: number, outcome: RealKillPoint['outcome']): Promise<RealKillPoint> {
  const lines = fs.readFileSync(path.join(dir, 'history.jsonl'), 'utf8').split('\n').filter(Boolean);
  const h = new History<unknown, unknown, unknown>();
  for (const l of lines) h.events.push(JSON.parse(l) as HistoryEvent<unknown, unknown, unknown>);
  h.crash(`SIGKILL at point ${k}`);
  try {
    const devs = await Promise.all([0, 1].map((i) => FileBlockDevice.open(path.join(dir, `disk${i}.img`))));
    const store = await LogDisk.open(await ReplicatedDisk.open(devs[0], devs[1]));
    h.observe('read-back after recovery', await readBackDisk(store));
    await store.close();
  } catch (err) {
    return { k, outcome, verdict: 'violation', detail: `recovery failed: ${(err as { code?: string }).code ?? String(err)}`, history: showHistory(h.events) };
  }
  const r = checkHistory(transactionalDiskSpec(FILE_DATA_BLOCKS), entriesOf(h.events));
  return { k, outcome, verdict: r.verdict, detail: r.detail, history: r.verdict === 'ok' ? undefined : showHistory(h.events) };
}

async function onePoint(k: number, n: number): Promise<RealKillPoint> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twindisk-kill-'));
  try {
    const r = await runChild(dir, k);
    if (r.signal !== 'SIGKILL' && r.code !== 0) return { k, outcome: 'finished', verdict: 'violation', detail: `child failed: ${r.stderr.slice(0, 500)}` };
    // The workload has n points in every run; a child that ends before point k was never
    // crashed there, so this point would otherwise pass as checked without being checked.
    if (r.signal !== 'SIGKILL' && k <= n) return { k, outcome: 'finished', verdict: 'violation', detail: `the child finished without reaching write point ${k} of ${n}: its write points differ between runs` };
    return await checkAfterKill(dir, k, r.signal === 'SIGKILL' ? 'killed' : 'finished');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Counts the file workload's write points with one full run, then kills a child at every
 * point 1..N that `pick` keeps, or at `points` (two children at a time), and checks what
 * each left behind.
 */
export async function realKill(
  options: { points?: number[]; pick?: (k: number) => boolean; parallel?: number; onPoint?: (p: RealKillPoint, done: number, total: number) => void } = {},
): Promise<RealKillResult> {
  const t0 = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twindisk-kill-'));
  let n: number;
  try {
    const r = await runChild(dir, 0);
    const m = /points=(\d+)/.exec(r.stdout);
    if (!m) throw new Error(`the real-kill child did not report its points: ${r.stderr.slice(0, 500)}`);
    n = Number(m[1]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const ks = options.points ?? Array.from({ length: n }, (_, i) => i + 1).filter(options.pick ?? (() => true));
  const checked: RealKillPoint[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ks.length) {
      const k = ks[next++];
      const p = await onePoint(k, n);
      checked.push(p);
      options.onPoint?.(p, checked.length, ks.length);
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 2 }, worker));
  checked.sort((a, b) => a.k - b.k);
  return { points: n, checked, ms: performance.now() - t0 };
}
