/**
 * twindisk crashtest: the crash-injection suite. `npm start` runs the default suite.
 * See harness/README.md for what is checked and with what bounds.
 */
import { parseArgs } from 'node:util';
import { explore, type ExploreResult, type Violation } from './explore.ts';
import { codeVersion } from './code-version.ts';
import { ResultsDb } from './db.ts';
import { mutantCatalogue } from './mutant-catalogue.ts';
import { randomExplore, diskWorkloads, txWorkloads } from './random.ts';
import { realKill, type RealKillPoint } from './real-kill/run.ts';
import { ALL_MODELS, type CrashModel } from './sim/crash-states.ts';
import { runMutant, totals, type MutantResult } from './suite.ts';
import { defaultTargets } from './targets/registry.ts';
import { REPLICATED_BLOCKS } from './targets/replicated.ts';
import { TX_DATA_BLOCKS } from './targets/transactional.ts';

const HELP = `usage: npm run crashtest -- [options]      (or: twindisk crashtest [options])

Runs the crash-injection suite: every shipped workload of every target (replicated disk,
transactional disk, whole stack) crashed at every write point under every crash model,
recovery crashed to --depth, the mutant catalogue, and real SIGKILLs on files.

options:
  --workload <names>   only these workloads (comma-separated; see --list)
  --model <models>     only these crash models: sync,buffered,torn,fail
  --depth <n>          how deep recovery itself is crashed (default 2)
  --seed <n>           scheduler / sampling seed (default 1)
  --budget <seconds>   after the default suite, explore random fast-check workloads for this long
  --replay <spec>      re-run one crash point: target/workload/seed/model/point (printed with every violation)
  --json               print the results as JSON instead of tables
  --db <path>          results database (default ./crashtest.sqlite); an unfinished run with the same settings and code resumes
  --report             print the last runs from the database and exit
  --no-real-kill       skip the real-kill phase
  --no-mutants         skip the mutant catalogue
  --quick              depth 1, every 5th real-kill point, fewer mutant seeds
  --list               list targets, workloads and mutants
  -h, --help           this help`;

const { values: opt } = parseArgs({
  options: {
    workload: { type: 'string' },
    model: { type: 'string' },
    depth: { type: 'string' },
    seed: { type: 'string' },
    budget: { type: 'string' },
    replay: { type: 'string' },
    json: { type: 'boolean' },
    db: { type: 'string' },
    report: { type: 'boolean' },
    'no-real-kill': { type: 'boolean' },
    'no-mutants': { type: 'boolean' },
    quick: { type: 'boolean' },
    list: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (opt.help) {
  console.log(HELP);
  process.exit(0);
}

const targets = defaultTargets();
if (opt.list) {
  for (const t of targets) console.log(`${t.name}: ${t.description}\n  models: ${t.models.join(', ')}\n  workloads: ${t.workloads.map((w) => w.name).join(', ')}`);
  console.log(`mutants:\n${mutantCatalogue.map((m) => `  ${m.name}: ${m.change}`).join('\n')}`);
  process.exit(0);
}

const dbPath = opt.db ?? './crashtest.sqlite';
if (opt.report) {
  const db = new ResultsDb(dbPath);
  console.log(db.report());
  db.close();
  process.exit(0);
}

const quick = !!opt.quick;
const seed = opt.seed ? Number(opt.seed) : 1;
const depth = opt.depth ? Number(opt.depth) : quick ? 1 : 2;
const models = (opt.model ? opt.model.split(',') : [...ALL_MODELS]) as CrashModel[];
for (const m of models) if (!ALL_MODELS.includes(m)) usage(`unknown model ${m}`);
const workloads = opt.workload?.split(',');
if (workloads) for (const w of workloads) if (!targets.some((t) => t.workloads.some((x) => x.name === w))) usage(`unknown workload ${w}`);
const doRealKill = !opt['no-real-kill'];
const doMutants = !opt['no-mutants'];
const tty = process.stderr.isTTY && !opt.json;

function usage(msg: string): never {
  console.error(`crashtest: ${msg}\n\n${HELP}`);
  process.exit(2);
}

function replaySpec(v: Violation): string {
  return `${v.target}/${v.workload}/${v.seed}/${v.model}/${v.point}`;
}

let lastLine = 0;
function progress(text: string, final = false): void {
  if (opt.json) return;
  if (tty) {
    const line = text.length > 110 ? text.slice(0, 110) : text;
    process.stderr.write(`\r${line.padEnd(lastLine)}${final ? '\n' : ''}`);
    lastLine = final ? 0 : line.length;
  } else if (final) console.error(text);
}

function bar(done: number, total: number): string {
  const w = 20;
  const f = total ? Math.round((done / total) * w) : w;
  return `[${'#'.repeat(f)}${'.'.repeat(w - f)}]`;
}

function printViolation(v: Violation): void {
  console.log(`\nVIOLATION ${v.target} / ${v.workload}  seed=${v.seed}  model=${v.model}  crash point=${v.point}`);
  console.log(`  crash-state choices: ${v.path.join('  >  ')}`);
  console.log(`  found vs expected: ${v.detail}`);
  console.log(`  history:\n${v.history.map((l) => `    ${l}`).join('\n')}`);
  console.log(`  replay: npm run crashtest -- --replay ${replaySpec(v)}`);
}

async function replay(spec: string): Promise<void> {
  const [tName, wName, s, model, point] = spec.split('/');
  const target = targets.find((t) => t.name === tName) ?? mutantCatalogue.map((m) => m.target()).find((t) => t.name === tName);
  const workload = target?.workloads.find((w) => w.name === wName);
  if (!target || !workload || !ALL_MODELS.includes(model as CrashModel)) usage(`cannot replay ${spec}`);
  const r = await explore(target, workload, { seed: Number(s), models: [model as CrashModel], depth, onlyPoint: Number(point), keepViolations: 5 });
  const st = r.byModel[model as CrashModel]!;
  console.log(`replay ${spec}: ${st.states} crash states checked, ${st.violations} violations, ${st.unknown} unknown`);
  for (const v of r.violations) printViolation(v);
  process.exitCode = st.violations ? 1 : 0;
}

async function main(): Promise<void> {
  if (opt.replay) return replay(opt.replay);
  const settings = { seed, depth, models, workloads: workloads ?? 'all', realKill: doRealKill, mutants: doMutants, quick, budget: opt.budget ?? null, code: codeVersion() };
  const db = new ResultsDb(dbPath);
  const { id: runId, resumed } = db.begin(settings);
  if (resumed) progress(`resuming run ${runId}`, true);
  const t0 = performance.now();

  // Phase 1: our layers, every shipped workload, every model, every point.
  const results: ExploreResult[] = [];
  const units = targets.flatMap((t) => t.workloads.filter((w) => !workloads || workloads.includes(w.name)).map((w) => ({ t, w })));
  for (const [i, { t, w }] of units.entries()) {
    const unit = `explore:${t.name}:${w.name}:${seed}`;
    let r = db.unit<ExploreResult>(runId, unit);
    if (!r) {
      r = await explore(t, w, {
        seed,
        depth,
        models,
        onProgress: (m, k, n) => tty && progress(`explore ${bar(i, units.length)} ${t.name}/${w.name} ${m} point ${k}/${n}`),
      });
      db.saveExplore(runId, unit, r, replaySpec);
    }
    results.push(r);
    const states = Object.values(r.byModel).reduce((n, s) => n + (s?.states ?? 0), 0);
    const viol = Object.values(r.byModel).reduce((n, s) => n + (s?.violations ?? 0), 0);
    progress(`explore ${t.name}/${w.name}: ${r.points} points, ${states} states, ${viol} violations, ${(r.ms / 1000).toFixed(1)} s`, true);
  }
  const exploreMs = results.reduce((n, r) => n + r.ms, 0);

  // Phase 2: random workloads within the budget.
  const randomNotes: string[] = [];
  let randomStates = 0;
  let randomViolations = 0;
  if (opt.budget) {
    // Random workloads exist for the disk and transactional specs only (none for mail yet).
    const randomTargets = targets.filter((t) => t.name !== 'mail');
    const perTarget = (Number(opt.budget) * 1000) / randomTargets.length;
    for (const t of randomTargets) {
      const arb = t.name === 'replicated' ? diskWorkloads(REPLICATED_BLOCKS) : txWorkloads(TX_DATA_BLOCKS);
      progress(`random ${t.name}: exploring for ${(perTarget / 1000).toFixed(0)} s`);
      const r = await randomExplore(t, arb, perTarget, { seed, depth: Math.min(depth, 1), models });
      randomStates += r.states;
      randomNotes.push(`random ${t.name}: ${r.runs} workloads, ${r.states} states${r.counterexample ? ', VIOLATION' : ''}`);
      progress(randomNotes[randomNotes.length - 1], true);
      if (r.counterexample) {
        randomViolations++;
        console.log(`\nshrunk workload: ${JSON.stringify(r.counterexample.workload.clients)}`);
        printViolation(r.counterexample.violation);
      }
    }
  }

  // Phase 3: the mutant catalogue.
  const mutants: MutantResult[] = [];
  if (doMutants) {
    for (const [i, m] of mutantCatalogue.entries()) {
      let r = db.unit<MutantResult>(runId, `mutant:${m.name}`);
      if (!r) {
        progress(`mutants ${bar(i, mutantCatalogue.length)} ${m.name}`);
        r = await runMutant(m, { seed, depth, models }, quick ? 2 : 4);
        db.saveMutant(runId, r);
      }
      mutants.push(r);
      progress(`mutant ${m.name}: ${r.caught ? `caught by ${r.by!.model} at point ${r.by!.point} (${r.by!.workload}, seed ${r.by!.seed})` : 'SURVIVED'}`, true);
    }
  }

  // Phase 4: real kills.
  let kills: RealKillPoint[] = [];
  let killPoints = 0;
  if (doRealKill) {
    const stored = db.unit<{ points: number; checked: RealKillPoint[] }>(runId, 'real-kill');
    if (stored) ({ points: killPoints, checked: kills } = stored);
    else {
      const pick = quick ? (k: number) => k % 5 === 1 : () => true;
      const r = await realKill({ pick, onPoint: (_p, d, n) => tty && progress(`real-kill ${bar(d, n)} ${d}/${n}`) });
      killPoints = r.points;
      kills = r.checked;
      db.saveRealKill(runId, kills, killPoints);
    }
    const bad = kills.filter((k) => k.verdict !== 'ok');
    progress(`real-kill: ${kills.length} of ${killPoints} points killed and checked, ${bad.length} violations`, true);
  }

  // Summary.
  const byModel = totals(results);
  const simStates = Object.values(byModel).reduce((n, s) => n + s.states, 0);
  const simViolations = Object.values(byModel).reduce((n, s) => n + s.violations, 0);
  const unknown = Object.values(byModel).reduce((n, s) => n + s.unknown, 0) + kills.filter((k) => k.verdict === 'unknown').length;
  const killViolations = kills.filter((k) => k.verdict === 'violation').length;
  const S = simStates + kills.length + randomStates;
  const V = simViolations + killViolations + randomViolations;
  const caught = mutants.filter((m) => m.caught).length;
  const statesPerS = simStates / (exploreMs / 1000);
  const lastLineText = `crashtest: ${S} crash states checked, ${V} violations, ${unknown} unknown, ${caught}/${mutants.length} mutants caught`;

  if (opt.json) {
    console.log(JSON.stringify({ runId, settings, byModel, statesPerS, results, mutants, realKill: { points: killPoints, checked: kills }, random: randomNotes, summary: lastLineText }, null, 2));
  } else {
    for (const r of results) for (const v of r.violations) printViolation(v);
    for (const k of kills.filter((x) => x.verdict !== 'ok')) console.log(`\nREAL-KILL ${k.verdict} at point ${k.k}: ${k.detail}\n${(k.history ?? []).map((l) => `    ${l}`).join('\n')}`);
    console.log('\nmodel      states  violations  unknown  sampled-points  time(s)  states/s');
    for (const [m, s] of Object.entries(byModel)) {
      console.log(`${m.padEnd(9)} ${String(s.states).padStart(7)}  ${String(s.violations).padStart(10)}  ${String(s.unknown).padStart(7)}  ${String(s.sampledPoints).padStart(14)}  ${(s.ms / 1000).toFixed(1).padStart(7)}  ${Math.round(s.states / (s.ms / 1000)).toString().padStart(8)}`);
    }
    console.log(`all       ${String(simStates).padStart(7)}  ${String(simViolations).padStart(10)}  ${' '.repeat(7)}  ${' '.repeat(14)}  ${(exploreMs / 1000).toFixed(1).padStart(7)}  ${Math.round(statesPerS).toString().padStart(8)}`);
    if (mutants.length) {
      console.log('\nmutant                           caught by');
      for (const m of mutants) console.log(`${m.mutant.padEnd(32)} ${m.caught ? `${m.by!.model} model, crash point ${m.by!.point}, ${m.by!.workload} seed ${m.by!.seed}` : 'SURVIVED'}`);
    }
    if (doRealKill) console.log(`\nreal kills: ${kills.length}/${killPoints} points, ${killViolations} violations`);
    console.log(`elapsed ${((performance.now() - t0) / 1000).toFixed(1)} s, results in ${dbPath} (run ${runId})`);
    console.log(lastLineText);
  }
  db.finish(runId, { states: S, violations: V, unknown, mutantsCaught: caught, mutantsTotal: mutants.length, realKillPoints: kills.length, statesPerS, summary: lastLineText });
  db.close();
  if (V > 0 || caught < mutants.length) process.exitCode = 1;
}

await main();
