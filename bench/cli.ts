/**
 * `npm run bench [-- --quick] [--dry] [--json] [--out DIR] [--only a,b]`
 *
 * Measures the raw disk limit, the replicated disk, the transactional store against
 * SQLite, recovery time against store size, and (when present) the harness and the mail
 * server; prints ratios and targets first, writes results.json and charts into --out
 * (bench/out by default). Progress goes to stderr. See bench/profile.ts for run lengths.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { writeCharts } from './charts.ts';
import { measureHarness, measureMail } from './contenders/optional.ts';
import { ioStyleGroup } from './contenders/raw.ts';
import { measureRecovery } from './contenders/recovery.ts';
import { diskGroup } from './contenders/replicated.ts';
import { loadOpenStore } from './contenders/store-api.ts';
import { storeGroup } from './contenders/store.ts';
import type { Group } from './contender.ts';
import { isolated } from './isolated.ts';
import { PROFILES, type Profile } from './profile.ts';
import { summary } from './report.ts';
import type { BenchResults } from './results.ts';
import { runGroup, type GroupResult } from './run-group.ts';
import { checkTargets } from './targets.ts';
import { Scratch } from './tmp.ts';

const PARTS = ['io-style', 'disk', 'store-1block', 'store-8block', 'store-64block', 'recovery', 'harness', 'mail'] as const;

/** A bad command line: printed as one line, exit code 2, no stack. */
class UsageError extends Error {}

interface CliOptions {
  profile: Profile;
  quick: boolean;
  json: boolean;
  outDir: string;
  only: Set<string>;
  /** Run every contender in the bench process instead of one worker process each (for --cpu-prof). */
  inProcess: boolean;
}

function parseArgs(argv: string[]): CliOptions {
  let quick = false, dry = false, json = false, inProcess = false;
  let outDir = fileURLToPath(new URL('./out', import.meta.url));
  let only = new Set<string>(PARTS);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--dry') dry = true;
    else if (a === '--json') json = true;
    else if (a === '--in-process') inProcess = true;
    else if (a === '--out') outDir = argv[++i] ?? '';
    else if (a === '--only') only = new Set((argv[++i] ?? '').split(','));
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: npm run bench -- [--quick] [--dry] [--json] [--out DIR] [--only ${PARTS.join(',')}] [--in-process]\n`);
      process.exit(0);
    } else throw new UsageError(`unknown option ${a} (try --help)`);
  }
  for (const p of only) if (!(PARTS as readonly string[]).includes(p)) throw new UsageError(`unknown part ${p}; parts are ${PARTS.join(', ')}`);
  if (!outDir) throw new UsageError('--out needs a directory');
  const profile = PROFILES[dry ? 'dry' : quick ? 'quick' : 'default'];
  // Read by workload.ts here and in every worker process (they inherit the environment).
  if (dry) process.env.TWINDISK_BENCH_DRY = '1';
  return { profile, quick, json, outDir, only, inProcess };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const { profile } = opts;
  const t0 = performance.now();
  const progress = (msg: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
  const scratch = new Scratch();
  progress(`profile ${profile.name}: ${profile.rounds} rounds × ${profile.trialMs} ms; scratch files in ${scratch.root}`);
  const startedAt = new Date().toISOString();
  try {
    const openStore = await loadOpenStore();
    const groups: Group[] = [];
    if (opts.only.has('io-style')) groups.push(ioStyleGroup(scratch));
    if (opts.only.has('disk')) groups.push(diskGroup(scratch, true));
    if (opts.only.has('store-1block')) groups.push(storeGroup(scratch, openStore, 1, profile.storeClients, true));
    if (opts.only.has('store-8block')) groups.push(storeGroup(scratch, openStore, 8, profile.storeClients));
    if (opts.only.has('store-64block')) groups.push(storeGroup(scratch, openStore, 64, profile.bigTxClients));
    const groupResults: GroupResult[] = [];
    for (const [i, g] of groups.entries()) {
      progress(`group ${i + 1}/${groups.length}: ${g.title}`);
      groupResults.push(await runGroup(g, profile, progress, opts.inProcess ? undefined : (c) => isolated(c, scratch.root)));
    }
    progress('recovery after a crash');
    const recovery = opts.only.has('recovery')
      ? await measureRecovery(scratch, openStore, profile, progress)
      : { status: 'missing' as const, detail: 'not selected (--only)', points: [] };
    progress('harness crash states/s');
    const harness = opts.only.has('harness') ? await measureHarness(profile.harnessMs, profile.name === 'dry' ? 1 : Infinity) : { status: 'missing' as const, detail: 'not selected (--only)' };
    progress('mail requests/s');
    const mail = opts.only.has('mail') ? await measureMail(scratch, profile.mailMs, profile.name === 'dry') : { status: 'missing' as const, detail: 'not selected (--only)' };
    const cpus = os.cpus();
    const results: BenchResults = {
      meta: {
        profile: profile.name,
        dry: profile.name === 'dry',
        node: process.version,
        platform: `${os.type()} ${os.release()} ${os.arch()}`,
        cpus: cpus.length,
        cpuModel: cpus[0]?.model ?? 'unknown',
        totalMemMiB: Math.round(os.totalmem() / 2 ** 20),
        scratchDir: scratch.root,
        startedAt,
        durationS: 0,
        trialMs: profile.trialMs,
        rounds: profile.rounds,
      },
      groups: groupResults,
      recovery,
      harness,
      mail,
      targets: [],
      processPeakRssBytes: process.resourceUsage().maxRSS * 1024,
      charts: [],
    };
    results.targets = checkTargets(results);
    mkdirSync(opts.outDir, { recursive: true });
    progress('charts');
    try {
      results.charts = await writeCharts(results, opts.outDir);
    } catch (err) {
      progress(`charts failed: ${(err as Error).stack}`);
    }
    results.meta.durationS = (performance.now() - t0) / 1000;
    const json = JSON.stringify(results, null, 2);
    writeFileSync(join(opts.outDir, 'results.json'), json);
    const text = summary(results);
    if (opts.json) {
      process.stderr.write(`${text}\n`);
      process.stdout.write(`${json}\n`);
    } else {
      process.stdout.write(`${text}\n`);
    }
  } finally {
    scratch.remove();
  }
}

main().catch((err) => {
  if (err instanceof UsageError) {
    process.stderr.write(`bench: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
