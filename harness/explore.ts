import type { TwindiskError } from '../src/errors.ts';
import { bufferedStates, DEFAULT_BOUNDS, latestImages, tornStates, type CrashBounds, type CrashModel, type CrashState } from './sim/crash-states.ts';
import { BlockStore } from './sim/block-store.ts';
import { mixSeed } from './sim/prng.ts';
import { SimDevice, type DeviceSnapshot, type DiskImage } from './sim/sim-device.ts';
import { World, type FailureAt, type PointInfo } from './sim/world.ts';
import { entriesOf, History, type HistoryEvent } from './spec/history.ts';
import { checkHistory, describeEntry } from './spec/linearizability.ts';
import type { Target, Workload } from './target.ts';
import { valueKey } from './values.ts';

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
  /**
   * Reuse recovery outcomes and verdicts across crash states that lead to the same crash
   * images or the same history (default true). Off, every state runs its recovery and its
   * check afresh: slower, same results (what the tests compare).
   */
  reuse: boolean;
  onProgress?: (model: CrashModel, done: number, total: number) => void;
}

export const DEFAULT_EXPLORE: ExploreOptions = { seed: 1, models: ['sync', 'buffered', 'torn', 'fail'], depth: 2, bounds: DEFAULT_BOUNDS, nestedBounds: { exhaustivePending: 4, sampled: 6 }, checkSteps: 100_000, stopAtFirst: false, keepViolations: 3, reuse: true };

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
export async function runWorkload(target: Target, workload: Workload, seed: number, failures: readonly FailureAt[] = [], blocks?: BlockStore): Promise<WorkloadRun> {
  const world = new World(seed, blocks);
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
export function statesAt(model: CrashModel, rec: Recorded, seed: number, bounds: CrashBounds, nested = false, store?: BlockStore): { states: CrashState[]; exhaustive: boolean } {
  switch (model) {
    case 'buffered':
      return bufferedStates(rec.snaps, seed, bounds);
    case 'torn': {
      // Nested inside recovery: the synchronous state plus two tears (first half, last half new).
      const torn = tornStates(rec.snaps, rec.info, seed, nested, store);
      if (!nested) return { states: torn, exhaustive: true };
      const halves = torn;
      return { states: [{ choice: 'sync', images: latestImages(rec.snaps) }, ...halves], exhaustive: false };
    }
    default:
      return { states: [{ choice: 'sync', images: latestImages(rec.snaps) }], exhaustive: true };
  }
}

type Hist = History<unknown, unknown, unknown>;

/** A crash state to recover from: its images (or how to rebuild them) and their key. */
interface CrashInput {
  /** Interned id of the images' key. */
  readonly key: number;
  readonly images?: readonly DiskImage[];
  readonly rebuild?: () => readonly DiskImage[];
}

/** Nested crash states at one recovery point: their image keys; the states themselves only when just built. */
interface NestedStates {
  readonly keys: Int32Array;
  readonly states?: readonly CrashState[];
}

/**
 * What recovery did over one set of crash images (with the same injected failures and
 * probe): its write points, its error or the read-backs, and, when asked for, the device
 * states at each of its points. Recovery runs in direct mode, where nothing is random, so
 * this is a function of the images: the explorer runs it once per distinct input and
 * checks every crash state that leads there against that state's own history.
 */
interface RecoveryOutcome {
  readonly images: readonly DiskImage[];
  readonly points: number;
  readonly recoveryError?: string;
  /** The read-backs that succeeded: after recovery, then after the probe failure. */
  readonly readBacks: unknown[];
  readonly readError?: string;
  /** Interned id of the read-back event as JSON (part of the nested memo key, as the history is). */
  readonly readBackId?: number;
  /** Interned id of every read-back's contents (with the history key, names the history that is checked). */
  readonly readBacksId?: number;
  /** Device states at each recovery point, then after the read-back (recorded on request). */
  readonly recs?: { info: PointInfo | undefined; snaps: DeviceSnapshot[] }[];
  /** Nested crash states per (model, recovery point), where they do not depend on the seed. */
  readonly nested: Map<string, Int32Array>;
  /** Lazily computed fingerprint (determinism audit). */
  fingerprint?: string;
}

/** Every this many reuses of a cached recovery, it is run again and must do the same (the determinism the cache rests on). */
const AUDIT_EVERY = 97;
const READ_BACK_LABEL = 'read-back after recovery';

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
  /** Recovery outcomes by (probe, failures, images). */
  readonly #outcomes = new Map<string, RecoveryOutcome>();
  readonly #blocks = new BlockStore();
  /** Long keys (images, histories) interned to small numbers, so the memo keys stay short. */
  readonly #keyIds = new Map<string, number>();
  #reuses = 0;
  /** Verdicts by (model, history key): see #check. */
  readonly #verdicts = new Map<string, { verdict: 'ok' | 'violation' | 'unknown'; detail: string }>();
  #verdictReuses = 0;
  /** Recoveries actually run and reuses of a cached one; histories judged again on reuse (for the curious). */
  readonly counters = { recoveries: 0, reused: 0, audits: 0, verdictsReused: 0, verdictAudits: 0 };

  constructor(target: Target, workload: Workload, options: Partial<ExploreOptions> = {}) {
    this.target = target;
    this.workload = workload;
    this.o = { ...DEFAULT_EXPLORE, ...options };
    this.result = { target: target.name, workload: workload.name, seed: this.o.seed, points: 0, byModel: {}, violations: [], ms: 0 };
  }

  async run(): Promise<ExploreResult> {
    const t0 = performance.now();
    const base = await runWorkload(this.target, this.workload, this.o.seed, [], this.#blocks);
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

  #input(images: readonly DiskImage[]): CrashInput {
    return { key: this.#id(imagesKey(images, this.#blocks)), images };
  }

  #id(key: string): number {
    let id = this.#keyIds.get(key);
    if (id === undefined) this.#keyIds.set(key, (id = this.#keyIds.size));
    return id;
  }

  async #crashModel(model: CrashModel, base: WorkloadRun): Promise<void> {
    const points = this.#points(base);
    for (const k of points) {
      if (this.#done) return;
      this.o.onProgress?.(model, k, base.recs.length);
      this.#stats.crashPoints++;
      const rec = base.recs[k - 1];
      const { states, exhaustive } = statesAt(model, rec, mixSeed(this.o.seed, k), this.o.bounds, false, this.#blocks);
      if (!exhaustive) this.#stats.sampledPoints++;
      const hist = () => {
        const h = base.history.prefix(rec.histLen);
        h.crash(`crash at point ${k}`);
        return h;
      };
      for (let c = 0; c < states.length && !this.#done; c++) {
        await this.#recoverAndCheck(this.#input(states[c].images), hist, this.#id(`b${rec.histLen}C`), this.o.depth, k, () => [`k=${k} ${model}[${c}] ${states[c].choice}`]);
      }
    }
  }

  /**
   * Opens the layer over the crash images with its recovery procedure, reads everything
   * back, checks; then crashes recovery at each of its write points (and once after it
   * finished) and recovers again, to `depth` levels. `hist` builds the history up to the
   * crash (only when the state is not a repeat); `path` the crash-state choices.
   */
  async #recoverAndCheck(
    input: CrashInput,
    hist: () => Hist,
    hkey: number,
    depth: number,
    point: number,
    path: () => string[],
    extra: { failures?: FailureAt[]; probe?: number } = {},
  ): Promise<number> {
    const okey = `${extra.probe ?? ''}|${extra.failures?.map((f) => `${f.device}@${f.point}`).join(',') ?? ''}|${input.key}`;
    const memoKey = `${hkey}|${depth}|${okey}`;
    const cached = this.#recoveryPoints.get(memoKey);
    if (cached !== undefined) return cached;
    // Record recovery's points whenever a nested crash could want them: re-running a recovery costs more than its snapshots.
    const record = this.o.depth > 0 && this.#model !== 'fail' && extra.probe === undefined && !extra.failures?.length;
    const out = await this.#outcome(okey, input, extra, record);
    if (typeof out === 'string') {
      this.#count('violation', point, path, out, hist());
      return this.#outcomes.get(okey)?.points ?? 0;
    }
    if (out.recoveryError !== undefined) {
      this.#count('violation', point, path, `recovery failed: ${out.recoveryError}`, hist());
      return out.points;
    }
    this.#recoveryPoints.set(memoKey, out.points);
    // The history up to the crash plus the read-backs; built only when something needs its events.
    let full: Hist | undefined;
    let histLen = 0;
    const h = (): Hist => {
      if (full) return full;
      full = hist();
      histLen = full.events.length;
      if (out.readBacks.length > 0) full.observe(READ_BACK_LABEL, out.readBacks[0]);
      if (out.readBacks.length > 1) full.observe(`read-back after disk ${extra.probe} failed`, out.readBacks[1]);
      return full;
    };
    if (out.readError !== undefined) {
      this.#count('violation', point, path, `read-back failed: ${out.readError}`, h());
      return out.points;
    }
    // hkey names the history up to the crash exactly, readBacksId the observations: together, the history checked.
    this.#check(`${hkey}|${out.readBacksId}`, h, point, path);
    if (depth <= 0 || this.#done || extra.probe !== undefined) return out.points;
    // Crash recovery at each of its points, and once after it finished and was read back.
    const recs = out.recs!;
    const model = this.#model === 'fail' ? 'sync' : this.#model;
    for (let j = 0; j < recs.length && !this.#done; j++) {
      const rec = recs[j];
      const seed = mixSeed(this.o.seed, point, j, depth);
      const nested = this.#nestedStates(out, model, j, seed);
      const where = rec.info ? `recovery point ${j + 1}` : 'after recovery';
      const key2 = this.#id(rec.info ? `${hkey}C` : `${hkey}O${out.readBackId}C`);
      const h2 = () => {
        const x = h().prefix(rec.info ? histLen : histLen + 1);
        x.crash(`crash at ${where}`);
        return x;
      };
      const rebuilt = () => statesAt(model, { ...rec, histLen: 0 }, seed, this.o.nestedBounds, true, this.#blocks).states;
      for (let c = 0; c < nested.keys.length && !this.#done; c++) {
        const s = nested.states?.[c];
        const input: CrashInput = { key: nested.keys[c], images: s?.images, rebuild: () => rebuilt()[c].images };
        await this.#recoverAndCheck(input, h2, key2, depth - 1, point, () => [...path(), `${where} ${model}[${c}] ${(s ?? rebuilt()[c]).choice}`]);
      }
    }
    return out.points;
  }

  /** The crash states inside a recovery at its point j, with their keys; cached on the outcome where the seed plays no part. */
  #nestedStates(out: RecoveryOutcome, model: CrashModel, j: number, seed: number): NestedStates {
    const ck = `${model}/${j}`;
    const known = out.nested.get(ck);
    if (known) return { keys: known };
    const rec = out.recs![j];
    const { states, exhaustive } = statesAt(model, { ...rec, histLen: 0 }, seed, this.o.nestedBounds, true, this.#blocks);
    const keys = Int32Array.from(states, (s) => this.#id(imagesKey(s.images, this.#blocks)));
    // Buffered states beyond the exhaustive bound are sampled with the seed; every other set is a function of the snapshots.
    if (exhaustive || model !== 'buffered') out.nested.set(ck, keys);
    return { keys, states };
  }

  /**
   * The outcome of recovery over these images: cached, or run now. Every AUDIT_EVERY-th
   * reuse runs it again and compares; a difference is returned as a violation's detail.
   */
  async #outcome(okey: string, input: CrashInput, extra: { failures?: FailureAt[]; probe?: number }, record: boolean): Promise<RecoveryOutcome | string> {
    const cached = this.o.reuse ? this.#outcomes.get(okey) : undefined;
    if (cached && (cached.recs || !record)) {
      this.counters.reused++;
      if (++this.#reuses % AUDIT_EVERY !== 0) return cached;
      this.counters.audits++;
      const again = await this.#runRecovery(cached.images, extra, record);
      return this.#fingerprint(again, record) === this.#fingerprint(cached, record) ? cached : `recovery is not a function of its crash images: two runs over the same images differed (${this.#fingerprint(cached, record)} vs ${this.#fingerprint(again, record)})`;
    }
    const images = cached?.images ?? input.images ?? input.rebuild!();
    const out = await this.#runRecovery(images, extra, record);
    if (cached && this.#fingerprint(cached, false) !== this.#fingerprint(out, false)) {
      return `recovery is not a function of its crash images: two runs over the same images differed (${this.#fingerprint(cached, false)} vs ${this.#fingerprint(out, false)})`;
    }
    this.#outcomes.set(okey, out);
    return out;
  }

  async #runRecovery(images: readonly DiskImage[], extra: { failures?: FailureAt[]; probe?: number }, record: boolean): Promise<RecoveryOutcome> {
    this.counters.recoveries++;
    const world = new World(this.o.seed, this.#blocks);
    const devs = images.map((img, i) => new SimDevice(world, this.target.devices[i], img));
    world.failures = extra.failures ?? [];
    const recs: { info: PointInfo | undefined; snaps: DeviceSnapshot[] }[] | undefined = record ? [] : undefined;
    if (recs) world.onPoint = (info) => recs.push({ info, snaps: devs.map((d) => d.snapshot()) });
    const nested = new Map<string, Int32Array>();
    let layer: unknown;
    try {
      layer = await this.target.recovery.recover(devs);
    } catch (err) {
      return { images, points: world.points, recoveryError: errCode(err), readBacks: [], nested };
    }
    const points = world.points;
    world.onPoint = undefined;
    const readBacks: unknown[] = [];
    try {
      readBacks.push(await this.target.readBack(layer));
      if (extra.probe !== undefined) {
        // A disk that fails now must not change what the layer serves.
        devs[extra.probe].fail('probe: failed after recovery');
        readBacks.push(await this.target.readBack(layer));
      }
    } catch (err) {
      return { images, points, readBacks, readError: errCode(err), nested };
    }
    const readBackId = this.#id(`O${valueKey(readBacks[0])}`);
    const readBacksId = readBacks.length === 1 ? readBackId : this.#id(`O${valueKey(readBacks[0])}O${valueKey(readBacks[1])}`);
    recs?.push({ info: undefined, snaps: devs.map((d) => d.snapshot()) });
    return { images, points, readBacks, readBackId, readBacksId, recs, nested };
  }

  #fingerprint(o: RecoveryOutcome, withRecs: boolean): string {
    const head = `${o.points}|${o.recoveryError ?? ''}|${o.readError ?? ''}|${valueKey(o.readBacks)}`;
    if (!withRecs || !o.recs) return head;
    if (o.fingerprint === undefined) {
      const b = this.#blocks;
      o.fingerprint = o.recs
        .map((r) => `${r.info ? `${r.info.kind}${r.info.device}@${r.info.addr ?? ''}=${r.info.data ? b.id(r.info.data) : ''}` : 'end'}:${snapsKey(r.snaps, b)}`)
        .join(';');
    }
    return `${head}|${o.fingerprint}`;
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
      const input = this.#input(images);
      const hist = () => {
        const h = base.history.prefix(rec.histLen);
        h.crash(`crash at point ${k}`);
        return h;
      };
      for (let i = 0; i < ndev && !this.#done; i++) {
        // After recovery: fail disk i, read back again.
        const r = await this.#recoverAndCheck(input, hist, this.#id(`b${rec.histLen}C`), 0, k, () => [`k=${k} sync, disk ${i} fails after recovery`], { probe: i });
        // Before recovery, then at each recovery point.
        const failedFirst = this.#input(images.map((im, d) => (d === i ? { ...im, failed: true } : im)));
        for (let j = 0; j <= r && !this.#done; j++) {
          const failures = j === 0 ? [] : [{ point: j, device: i }];
          await this.#recoverAndCheck(j === 0 ? failedFirst : input, hist, this.#id(`b${rec.histLen}C`), 0, k, () => [`k=${k} sync, disk ${i} fails ${j === 0 ? 'before recovery' : `at recovery point ${j}`}`], { failures });
        }
        // During the workload: disk i fails at point k, the run goes on; crash at every later point.
        if (k > base.points) continue;
        const run = await runWorkload(this.target, this.workload, this.o.seed, [{ point: k, device: i }], this.#blocks);
        for (let m = k + 1; m <= run.recs.length && !this.#done; m++) {
          const rm = run.recs[m - 1];
          const imgs = latestImages(rm.snaps);
          const variants: [string, DiskImage[]][] = [['stays dead', imgs]];
          if (this.target.transientFailures) variants.push(['comes back stale', imgs.map((im) => ({ ...im, failed: false }))]);
          const h = () => {
            const x = run.history.prefix(rm.histLen);
            x.crash(`crash at point ${m}`);
            return x;
          };
          for (const [what, v] of variants) {
            await this.#recoverAndCheck(this.#input(v), h, this.#id(`f${i}@${k}:${rm.histLen}C`), 0, k, () => [`disk ${i} fails at point ${k}, crash at ${m}, disk ${what}`]);
          }
        }
      }
    }
  }

  /**
   * Checks the history `h` builds against the spec. `key` names that history exactly (its
   * events up to the crash, then the read-backs' contents), and the check is a pure
   * function of the history, so a verdict is computed once per distinct key and model and
   * every crash state that leads to the same history gets it. Every AUDIT_EVERY-th reuse
   * checks the history again and reports a violation if the verdict differs.
   */
  #check(key: string, h: () => Hist, point: number, path: () => string[]): void {
    const vkey = `${this.#model}|${key}`;
    let v = this.o.reuse ? this.#verdicts.get(vkey) : undefined;
    if (v !== undefined) {
      this.counters.verdictsReused++;
      if (++this.#verdictReuses % AUDIT_EVERY === 0) {
        this.counters.verdictAudits++;
        const again = this.#judge(h());
        if (again.verdict !== v.verdict || again.detail !== v.detail) {
          this.#count('violation', point, path, `the check is not a function of the history: the same history was judged ${v.verdict} and then ${again.verdict}`, h());
          return;
        }
      }
    } else {
      v = this.#judge(h());
      this.#verdicts.set(vkey, v);
    }
    this.#count(v.verdict, point, path, v.detail, v.verdict === 'violation' ? h() : undefined);
  }

  #judge(h: Hist): { verdict: 'ok' | 'violation' | 'unknown'; detail: string } {
    const errors = h.events.filter((e) => e.type === 'return' && e.error);
    if (errors.length) return { verdict: 'violation', detail: `an operation failed: ${(errors[0] as { error: string }).error}` };
    const spec = this.target.spec(this.#model);
    const r = checkHistory(spec, entriesOf(h.events), { maxSteps: this.o.checkSteps });
    return { verdict: r.verdict, detail: r.detail ?? '' };
  }

  #count(verdict: 'ok' | 'violation' | 'unknown', point: number, path: () => string[], detail: string, h: Hist | undefined): void {
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
      path: path(),
      detail,
      history: showHistory(h!.events),
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

/** Identifies crash images by the contents of their blocks (map ids from the store), their labels and failure. */
function imagesKey(images: readonly DiskImage[], blocks: BlockStore): string {
  let key = '';
  for (let d = 0; d < images.length; d++) {
    const im = images[d];
    key += `/${im.failed ? 'F' : ''}${im.label ? `e${im.label.epoch}.${im.label.index}.${im.label.storeId}` : ''}m${blocks.idOfMap(im.blocks)}`;
  }
  return key;
}

function blocksKey(m: ReadonlyMap<number, Uint8Array>, blocks: BlockStore): string {
  return String(blocks.idOfMap(m));
}

function snapsKey(snaps: readonly DeviceSnapshot[], blocks: BlockStore): string {
  return snaps
    .map((s) => `${s.failed ? 'F' : ''}${JSON.stringify(s.latestLabel ?? null)}${JSON.stringify(s.durableLabel ?? null)}${blocksKey(s.latest, blocks)}#${blocksKey(s.durable, blocks)}#${s.pending.map((p) => `${p.addr}=${p.data ? blocks.id(p.data) : JSON.stringify(p.label)}`).join(',')}`)
    .join('/');
}
