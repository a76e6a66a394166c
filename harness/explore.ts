import type { TwindiskError } from '../src/errors.ts';
import { createHash } from 'node:crypto';
import { bufferedStates, DEFAULT_BOUNDS, latestImages, tornStates, type CrashBounds, type CrashModel, type CrashState } from './sim/crash-states.ts';
import { mixSeed } from './sim/prng.ts';
import { SimDevice, type DeviceSnapshot, type DiskImage } from './sim/sim-device.ts';
import { World, type FailureAt, type PointInfo } from './sim/world.ts';
import { entriesOf, History, type HistoryEvent } from './spec/history.ts';
import { checkHistory, describeEntry } from './spec/linearizability.ts';
import type { Target, Workload } from './target.ts';

export interface ExploreOptions {
  seed: number;
  models: readonly CrashModel[];
  /** How many times recovery itself is crashed, nested (default 2). */
  depth: number;
  bounds: CrashBounds;
  /** Bounds for crash states inside recovery (nested levels), where enumeration multiplies. */
  nestedBounds: CrashBounds;
  /** Search-step bound of the checker per history part; beyond it the state counts as unknown. */
  checkSteps: number;
  /** Stop at the first violation (mutants: one is enough). */
  stopAtFirst: boolean;
  /** Explore only this crash point (replay). */
  onlyPoint?: number;
  /** Keep at most this many counterexamples per model. */
  keepViolations: number;
  onProgress?: (model: CrashModel, done: number, total: number) => void;
}

export const DEFAULT_EXPLORE: ExploreOptions = { seed: 1, models: ['sync', 'buffered', 'torn', 'fail'], depth: 2, bounds: DEFAULT_BOUNDS, nestedBounds: { exhaustivePending: 4, sampled: 6 }, checkSteps: 100_000, stopAtFirst: false, keepViolations: 3 };

export interface ModelStats {
  states: number;
  violations: number;
  unknown: number;
  /** Crash points whose buffered states were sampled rather than enumerated. */
  sampledPoints: number;
  /** Crash points (workload points + the end) explored. */
  crashPoints: number;
  ms: number;
}

/** A run the spec cannot explain, with what it takes to replay it. */
export interface Violation {
  target: string;
  workload: string;
  seed: number;
  model: CrashModel;
  /** Workload crash point (1..N, N+1 = after the workload); in the fail model, the point where the disk failed or the crash came. */
  point: number;
  /** The crash-state choices, outermost first, and any injected failure or nested recovery crash. */
  path: string[];
  detail: string;
  history: string[];
}

export interface ExploreResult {
  target: string;
  workload: string;
  seed: number;
  /** Write points of the workload (crash points are 1..points+1). */
  points: number;
  byModel: Partial<Record<CrashModel, ModelStats>>;
  violations: Violation[];
  ms: number;
}

interface Recorded {
  info: PointInfo | undefined;
  snaps: DeviceSnapshot[];
  histLen: number;
}

interface WorkloadRun {
  recs: Recorded[];
  history: History<unknown, unknown, unknown>;
  points: number;
}

function errCode(err: unknown): string {
  return (err as TwindiskError)?.code ?? (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
}

/** Runs the workload once under the seeded scheduler, recording the state at every write point. */
export async function runWorkload(target: Target, workload: Workload, seed: number, failures: readonly FailureAt[] = []): Promise<WorkloadRun> {
  const world = new World(seed);
  const devs = target.devices.map((d) => {
    const dev = new SimDevice(world, d);
    if (d.label) dev.initLabel({ ...d.label, epoch: 0 });
    return dev;
  });
  world.counting = false;
  await target.format?.(devs);
  const layer = await target.recovery.recover(devs);
  for (const d of devs) d.settleAll();
  world.counting = true;
  world.failures = failures;
  const history = new History<unknown, unknown, unknown>();
  const recs: Recorded[] = [];
  world.onPoint = (info) => recs.push({ info, snaps: devs.map((d) => d.snapshot()), histLen: history.events.length });
  const clients = workload.clients.map(async (ops, c) => {
    for (const op of ops) {
      const id = history.call(c, op);
      try {
        history.ret(id, await target.run(layer, op));
      } catch (err) {
        history.fail(id, errCode(err));
      }
    }
  });
  await world.runScheduled(Promise.all(clients));
  recs.push({ info: undefined, snaps: devs.map((d) => d.snapshot()), histLen: history.events.length });
  return { recs, history, points: world.points };
}

/** The crash states a model allows at a recorded point. */
export function statesAt(model: CrashModel, rec: Recorded, seed: number, bounds: CrashBounds, nested = false): { states: CrashState[]; exhaustive: boolean } {
  switch (model) {
    case 'buffered':
      return bufferedStates(rec.snaps, seed, bounds);
    case 'torn': {
      // Nested inside recovery: the synchronous state plus two tears (first half, last half new).
      const torn = tornStates(rec.snaps, rec.info, seed, nested);
      if (!nested) return { states: torn, exhaustive: true };
      const halves = torn;
      return { states: [{ choice: 'sync', images: latestImages(rec.snaps) }, ...halves], exhaustive: false };
    }
    default:
      return { states: [{ choice: 'sync', images: latestImages(rec.snaps) }], exhaustive: true };
  }
}

/** One exploration: a target, a workload, a seed, every crash point under every model. */
export class Explorer {
  readonly target: Target;
  readonly workload: Workload;
  readonly o: ExploreOptions;
  readonly result: ExploreResult;
  #stats!: ModelStats;
  #model!: CrashModel;
  #done = false;
  /** (history, images, depth) already explored: a crash that changes nothing leads to the same subtree. */
  readonly #recoveryPoints = new Map<string, number>();

  constructor(target: Target, workload: Workload, options: Partial<ExploreOptions> = {}) {
    this.target = target;
    this.workload = workload;
    this.o = { ...DEFAULT_EXPLORE, ...options };
    this.result = { target: target.name, workload: workload.name, seed: this.o.seed, points: 0, byModel: {}, violations: [], ms: 0 };
  }

  async run(): Promise<ExploreResult> {
    const t0 = performance.now();
    const base = await runWorkload(this.target, this.workload, this.o.seed);
    this.result.points = base.points;
    for (const model of this.o.models) {
      if (!this.target.models.includes(model) || this.#done) continue;
      const m0 = performance.now();
      this.#model = model;
      this.#stats = { states: 0, violations: 0, unknown: 0, sampledPoints: 0, crashPoints: 0, ms: 0 };
      this.result.byModel[model] = this.#stats;
      if (model === 'fail') await this.#failModel(base);
      else await this.#crashModel(model, base);
      this.#stats.ms = performance.now() - m0;
    }
    this.result.ms = performance.now() - t0;
    return this.result;
  }

  #points(base: WorkloadRun): number[] {
    const all = base.recs.map((_, i) => i + 1);
    return this.o.onlyPoint ? all.filter((k) => k === this.o.onlyPoint) : all;
  }

  async #crashModel(model: CrashModel, base: WorkloadRun): Promise<void> {
    const points = this.#points(base);
    for (const k of points) {
      if (this.#done) return;
      this.o.onProgress?.(model, k, base.recs.length);
      this.#stats.crashPoints++;
      const rec = base.recs[k - 1];
      const { states, exhaustive } = statesAt(model, rec, mixSeed(this.o.seed, k), this.o.bounds);
      if (!exhaustive) this.#stats.sampledPoints++;
      for (let c = 0; c < states.length && !this.#done; c++) {
        const h = base.history.prefix(rec.histLen);
        h.crash(`crash at point ${k}`);
        await this.#recoverAndCheck(states[c].images, h, `b${rec.histLen}C`, this.o.depth, k, [`k=${k} ${model}[${c}] ${states[c].choice}`]);
      }
    }
  }

  /**
   * Opens the layer over the crash images with its recovery procedure, reads everything
   * back, checks; then crashes recovery at each of its write points (and once after it
   * finished) and recovers again, to `depth` levels.
   */
  async #recoverAndCheck(
    images: DiskImage[],
    hist: History<unknown, unknown, unknown>,
    hkey: string,
    depth: number,
    point: number,
    path: string[],
    extra: { failures?: FailureAt[]; probe?: number } = {},
  ): Promise<number> {
    const memoKey = `${hkey}|${depth}|${extra.probe ?? ''}|${extra.failures?.map((f) => `${f.device}@${f.point}`).join(',') ?? ''}|${imagesKey(images)}`;
    const cached = this.#recoveryPoints.get(memoKey);
    if (cached !== undefined) return cached;
    const world = new World(mixSeed(this.o.seed, point, path.length));
    const devs = images.map((img, i) => new SimDevice(world, this.target.devices[i], img));
    world.failures = extra.failures ?? [];
    const recs: Recorded[] = [];
    if (depth > 0) world.onPoint = (info) => recs.push({ info, snaps: devs.map((d) => d.snapshot()), histLen: hist.events.length });
    let layer: unknown;
    try {
      layer = await this.target.recovery.recover(devs);
    } catch (err) {
      this.#count('violation', point, path, `recovery failed: ${errCode(err)}`, hist);
      return world.points;
    }
    const recoveryPoints = world.points;
    this.#recoveryPoints.set(memoKey, recoveryPoints);
    world.onPoint = undefined;
    const h = hist.prefix(hist.events.length);
    try {
      h.observe('read-back after recovery', await this.target.readBack(layer));
      if (extra.probe !== undefined) {
        // A disk that fails now must not change what the layer serves.
        devs[extra.probe].fail('probe: failed after recovery');
        h.observe(`read-back after disk ${extra.probe} failed`, await this.target.readBack(layer));
      }
    } catch (err) {
      this.#count('violation', point, path, `read-back failed: ${errCode(err)}`, h);
      return recoveryPoints;
    }
    this.#check(h, point, path);
    if (depth <= 0 || this.#done || extra.probe !== undefined) return recoveryPoints;
    // Crash recovery at each of its points, and once after it finished and was read back.
    recs.push({ info: undefined, snaps: devs.map((d) => d.snapshot()), histLen: h.events.length });
    const model = this.#model === 'fail' ? 'sync' : this.#model;
    for (let j = 0; j < recs.length && !this.#done; j++) {
      const rec = recs[j];
      const { states } = statesAt(model, rec, mixSeed(this.o.seed, point, j, depth), this.o.nestedBounds, true);
      const where = rec.info ? `recovery point ${j + 1}` : 'after recovery';
      const key2 = rec.info ? `${hkey}C` : `${hkey}O${JSON.stringify(h.events[h.events.length - 1])}C`;
      for (let c = 0; c < states.length && !this.#done; c++) {
        const h2 = h.prefix(rec.histLen);
        h2.crash(`crash at ${where}`);
        await this.#recoverAndCheck(states[c].images, h2, key2, depth - 1, point, [...path, `${where} ${model}[${c}] ${states[c].choice}`]);
      }
    }
    return recoveryPoints;
  }

  /** Disk failures: during the workload (dead or back stale after a crash), before/during recovery, after recovery. */
  async #failModel(base: WorkloadRun): Promise<void> {
    const ndev = this.target.devices.length;
    const points = this.#points(base);
    for (const k of points) {
      if (this.#done) return;
      this.o.onProgress?.('fail', k, base.recs.length);
      this.#stats.crashPoints++;
      const rec = base.recs[k - 1];
      const images = latestImages(rec.snaps);
      for (let i = 0; i < ndev && !this.#done; i++) {
        const hist = () => {
          const h = base.history.prefix(rec.histLen);
          h.crash(`crash at point ${k}`);
          return h;
        };
        // After recovery: fail disk i, read back again.
        const r = await this.#recoverAndCheck(images, hist(), `b${rec.histLen}C`, 0, k, [`k=${k} sync, disk ${i} fails after recovery`], { probe: i });
        // Before recovery, then at each recovery point.
        for (let j = 0; j <= r && !this.#done; j++) {
          const imgs = j === 0 ? images.map((im, d) => (d === i ? { ...im, failed: true } : im)) : images;
          const failures = j === 0 ? [] : [{ point: j, device: i }];
          await this.#recoverAndCheck(imgs, hist(), `b${rec.histLen}C`, 0, k, [`k=${k} sync, disk ${i} fails ${j === 0 ? 'before recovery' : `at recovery point ${j}`}`], { failures });
        }
        // During the workload: disk i fails at point k, the run goes on; crash at every later point.
        if (k > base.points) continue;
        const run = await runWorkload(this.target, this.workload, this.o.seed, [{ point: k, device: i }]);
        for (let m = k + 1; m <= run.recs.length && !this.#done; m++) {
          const rm = run.recs[m - 1];
          const imgs = latestImages(rm.snaps);
          const variants: [string, DiskImage[]][] = [['stays dead', imgs]];
          if (this.target.transientFailures) variants.push(['comes back stale', imgs.map((im) => ({ ...im, failed: false }))]);
          for (const [what, v] of variants) {
            const h = run.history.prefix(rm.histLen);
            h.crash(`crash at point ${m}`);
            await this.#recoverAndCheck(v, h, `f${i}@${k}:${rm.histLen}C`, 0, k, [`disk ${i} fails at point ${k}, crash at ${m}, disk ${what}`]);
          }
        }
      }
    }
  }

  #check(h: History<unknown, unknown, unknown>, point: number, path: string[]): void {
    const errors = h.events.filter((e) => e.type === 'return' && e.error);
    if (errors.length) {
      this.#count('violation', point, path, `an operation failed: ${(errors[0] as { error: string }).error}`, h);
      return;
    }
    const spec = this.target.spec(this.#model);
    const r = checkHistory(spec, entriesOf(h.events), { maxSteps: this.o.checkSteps });
    this.#count(r.verdict, point, path, r.detail ?? '', h);
  }

  #count(verdict: 'ok' | 'violation' | 'unknown', point: number, path: string[], detail: string, h: History<unknown, unknown, unknown>): void {
    this.#stats.states++;
    if (verdict === 'unknown') this.#stats.unknown++;
    if (verdict !== 'violation') return;
    this.#stats.violations++;
    if (this.o.stopAtFirst) this.#done = true;
    if (this.result.violations.filter((v) => v.model === this.#model).length >= this.o.keepViolations) return;
    this.result.violations.push({
      target: this.target.name,
      workload: this.workload.name,
      seed: this.o.seed,
      model: this.#model,
      point,
      path,
      detail,
      history: showHistory(h.events),
    });
  }
}

export function showHistory(events: readonly HistoryEvent<unknown, unknown, unknown>[]): string[] {
  return entriesOf(events)
    .sort((a, b) => a.call - b.call)
    .map((e) => describeEntry(e));
}

export function explore(target: Target, workload: Workload, options: Partial<ExploreOptions> = {}): Promise<ExploreResult> {
  return new Explorer(target, workload, options).run();
}

const blockIds = new WeakMap<Uint8Array, string>();
/** A content digest per block object, computed once (blocks are never mutated after they are stored). */
function idOfObject(b: Uint8Array): string {
  let id = blockIds.get(b);
  if (id === undefined) blockIds.set(b, (id = createHash('sha1').update(b).digest('base64').slice(0, 16)));
  return id;
}

/** Identifies crash images by the identity of their blocks (blocks are never mutated, so equal ids mean equal images). */
function imagesKey(images: readonly DiskImage[]): string {
  return images
    .map((im) => {
      const parts: string[] = [im.failed ? 'F' : '', im.label ? `e${im.label.epoch}` : ''];
      for (const a of [...im.blocks.keys()].sort((x, y) => x - y)) parts.push(`${a}:${idOfObject(im.blocks.get(a)!)}`);
      return parts.join(',');
    })
    .join('/');
}
