import { invariant, type TwindiskError } from '../src/errors.ts';
import { ALL_MODELS, bufferedPlan, type BufferedPlan, type TornPlan, bufferedStates, buildImages, DEFAULT_BOUNDS, describe, latestImages, tornChoice, tornImages, tornPlan, tornStates, type CrashBounds, type CrashModel, type CrashState } from './sim/crash-states.ts';
import { BlockStore, TupleIds } from './sim/block-store.ts';
import { mixSeed } from './sim/prng.ts';
import { LABEL_ADDR, SimDevice, type DeviceSnapshot, type DiskImage } from './sim/sim-device.ts';
import type { DiskLabel } from '../src/device/disk-label.ts';
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
   * images or the same history, and nested crash states' keys across recovery points with
   * the same contents (default true). Off, every state runs its recovery and its check
   * afresh and every point's states are keyed afresh: slower, same results (what the tests
   * compare).
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


/**
 * Runs the workload once under the seeded scheduler, recording the state at every write
 * point from `recordFrom` on (earlier points get a record without device states: taking
 * them costs a copy of every device map at the next write).
 */
export async function runWorkload(target: Target, workload: Workload, seed: number, failures: readonly FailureAt[] = [], blocks?: BlockStore, recordFrom = 1): Promise<WorkloadRun> {
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
  world.onPoint = (info) => recs.push({ info, snaps: info.point >= recordFrom ? devs.map((d) => d.snapshot()) : [], histLen: history.events.length });
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

/** Which cached recovery outcome: injected failures and probe (0: none), then the images' key. */
interface OutcomeKey {
  readonly x: number;
  readonly images: number;
}

/** A crash state to recover from: its key, and its images or the lazy set that builds them. */
interface CrashInput {
  /** Interned id of the images' key. */
  readonly key: number;
  readonly images?: readonly DiskImage[];
  readonly lazy?: LazyStates;
  readonly index?: number;
}

/**
 * The crash states a model allows at one recorded point, keyed without building them:
 * each state's key is computed from block ids per address (the durable or latest map's,
 * with the state's few changed addresses set), and its images and description are built
 * only for a state whose recovery must actually run, or whose counterexample is printed.
 */
interface LazyStates {
  readonly keys: Int32Array;
  readonly exhaustive: boolean;
  images(i: number): readonly DiskImage[];
  choice(i: number): string;
}

// The sets are classes rather than object literals of closures: tsx keeps function names
// by wrapping every named closure at its creation, a measurable cost at one set per point.

/** Buffered states: the durable images with each pick's pending writes applied. */
class BufferedSet implements LazyStates {
  constructor(
    readonly keys: Int32Array,
    readonly exhaustive: boolean,
    readonly snaps: readonly DeviceSnapshot[],
    readonly plan: BufferedPlan,
  ) {}

  images(i: number): readonly DiskImage[] {
    return buildImages(this.snaps, this.plan.slots, this.plan.picks[i]);
  }

  choice(i: number): string {
    return describe(this.plan.slots, this.plan.picks[i]);
  }
}

/** The synchronous images (the first `first` states), then a torn plan's mixes. */
class LatestSet implements LazyStates {
  constructor(
    readonly keys: Int32Array,
    readonly exhaustive: boolean,
    readonly latest: readonly DiskImage[],
    readonly first: number,
    readonly plan: TornPlan | undefined,
  ) {}

  images(i: number): readonly DiskImage[] {
    return i < this.first ? this.latest : tornImages(this.plan!, i - this.first);
  }

  choice(i: number): string {
    return i < this.first ? 'sync' : tornChoice(this.plan!, i - this.first);
  }
}

/** States whose keys are known; the states themselves are rebuilt only if one must be built. */
class DeferredSet implements LazyStates {
  readonly exhaustive = true;
  #states: LazyStates | undefined;
  constructor(
    readonly keys: Int32Array,
    readonly build: () => LazyStates,
  ) {}

  images(i: number): readonly DiskImage[] {
    return (this.#states ??= this.build()).images(i);
  }

  choice(i: number): string {
    return (this.#states ??= this.build()).choice(i);
  }
}

/** A history built only when something needs its events: `from`'s first `len` events (all: -1), a crash, observations. */
class LazyHistory {
  #built: Hist | undefined;
  constructor(
    readonly from: Hist | LazyHistory,
    readonly len: number,
    readonly crash: string | undefined,
    readonly observations: readonly (readonly [string, unknown])[] = [],
  ) {}

  build(): Hist {
    if (this.#built) return this.#built;
    const src = this.from instanceof LazyHistory ? this.from.build() : this.from;
    const h = src.prefix(this.len < 0 ? src.events.length : this.len);
    if (this.crash !== undefined) h.crash(this.crash);
    for (const [label, obs] of this.observations) h.observe(label, obs);
    return (this.#built = h);
  }
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
  /** Nested crash states' keys by (recovery point, model), where they do not depend on the seed. */
  readonly nested: Map<number, Int32Array>;
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
  /** (model, history, images, depth) already explored: a crash that changes nothing leads to the same subtree. */
  readonly #recoveryPoints = new Map<number, Map<number, Map<number, number>>>();
  /** Recovery outcomes by (probe, failures, images). */
  readonly #outcomes = new Map<number, Map<number, RecoveryOutcome>>();
  readonly #blocks = new BlockStore();
  /** Long keys (images, histories) interned to small numbers, so the memo keys stay short. */
  readonly #keyIds = new Map<string, number>();
  #reuses = 0;
  /** Verdicts by (model, history key): see #check. */
  readonly #verdicts = new Map<number, Map<number, { verdict: 'ok' | 'violation' | 'unknown'; detail: string }>>();
  /** Crash images' keys: per device (failed, label id, block-map id), interned as integer tuples. */
  readonly #imageIds = new TupleIds();
  #imageScratch = new Int32Array(0);
  readonly #labelIds = new WeakMap<DiskLabel, number>();
  readonly #labelNames = new Map<string, number>();
  #verdictReuses = 0;
  /** Nested crash states' keys by the contents of the point they come from (see #pointContent). */
  readonly #nestedByContent = new Map<number, { keys: Int32Array; seedFree: boolean }>();
  readonly #contentIds = new TupleIds();
  #contentScratch = new Int32Array(64);
  /** Recoveries actually run and reuses of a cached one; histories judged again on reuse (for the curious). */
  readonly counters = { recoveries: 0, reused: 0, audits: 0, verdictsReused: 0, verdictAudits: 0 };

  constructor(target: Target, workload: Workload, options: Partial<ExploreOptions> = {}) {
    this.target = target;
    this.workload = workload;
    this.o = { ...DEFAULT_EXPLORE, ...options };
    if (workload.maxDepth !== undefined) this.o.depth = Math.min(this.o.depth, workload.maxDepth);
    // The memo packs (history, depth, model) into one number with 6 bits of depth.
    invariant(Number.isInteger(this.o.depth) && this.o.depth >= 0 && this.o.depth < 64, 'depth must be an integer in 0..63');
    this.result = { target: target.name, workload: workload.name, seed: this.o.seed, points: 0, byModel: {}, violations: [], ms: 0 };
  }

  async run(): Promise<ExploreResult> {
    const t0 = performance.now();
    const base = await runWorkload(this.target, this.workload, this.o.seed, [], this.#blocks);
    this.result.points = base.points;
    for (const model of this.o.models) {
      if (!this.target.models.includes(model) || (this.workload.models && !this.workload.models.includes(model)) || this.#done) continue;
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
    return { key: this.#imagesKey(images), images };
  }

  /** The scratch tuple of an images key for n devices (filled by #setDevice, interned by #imageIds). */
  #tuple(n: number): Int32Array {
    if (this.#imageScratch.length !== 3 * n) this.#imageScratch = new Int32Array(3 * n);
    return this.#imageScratch;
  }

  /**
   * Device d's part of an images key (every way of keying images goes through here, so
   * equal images get equal keys): failure, label (by contents), block map (by contents).
   */
  #setDevice(t: Int32Array, d: number, failed: boolean, label: DiskLabel | undefined, mapId: number): void {
    t[3 * d] = failed ? 1 : 0;
    t[3 * d + 1] = label === undefined ? 0 : this.#labelId(label);
    t[3 * d + 2] = mapId;
  }

  #labelId(label: DiskLabel): number {
    let id = this.#labelIds.get(label);
    if (id === undefined) {
      const name = `${label.epoch}.${label.index}.${label.storeId}`;
      id = this.#labelNames.get(name);
      if (id === undefined) this.#labelNames.set(name, (id = this.#labelNames.size + 1));
      this.#labelIds.set(label, id);
    }
    return id;
  }

  /** Identifies crash images by the contents of their blocks (map ids from the store), their labels and failure. */
  #imagesKey(images: readonly DiskImage[]): number {
    const t = this.#tuple(images.length);
    for (let d = 0; d < images.length; d++) this.#setDevice(t, d, images[d].failed, images[d].label, this.#blocks.idOfMap(images[d].blocks));
    return this.#imageIds.id(t);
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
      const states = this.#lazyStates(model, rec, mixSeed(this.o.seed, k), this.o.bounds, false);
      if (!states.exhaustive) this.#stats.sampledPoints++;
      const hist = new LazyHistory(base.history, rec.histLen, `crash at point ${k}`);
      const hkey = this.#id(`b${rec.histLen}C`);
      for (let c = 0; c < states.keys.length && !this.#done; c++) {
        await this.#recoverAndCheck({ key: states.keys[c], lazy: states, index: c }, hist, hkey, this.o.depth, k, () => [`k=${k} ${model}[${c}] ${states.choice(c)}`]);
      }
    }
  }

  /** The crash states of `model` at a recorded point, keyed (see LazyStates). */
  #lazyStates(model: CrashModel, rec: { info: PointInfo | undefined; snaps: DeviceSnapshot[] }, seed: number, bounds: CrashBounds, nested: boolean): LazyStates {
    const b = this.#blocks;
    const snaps = rec.snaps;
    if (model === 'buffered') {
      const plan = bufferedPlan(snaps, seed, bounds);
      const keys = new Int32Array(plan.picks.length);
      const bases = snaps.map((s) => b.idsOfMap(s.durable));
      if (bases.some((x) => x === null)) {
        // A map too sparse for per-address arrays: key the built images.
        plan.picks.forEach((pick, i) => (keys[i] = this.#imagesKey(buildImages(snaps, plan.slots, pick))));
      } else {
        const slotIds = plan.slots.map((slot) => (slot.addr === LABEL_ADDR ? null : slot.options.map((o) => (o ? b.id(o as Uint8Array) : 0))));
        const lens = bases.map((x) => x!.length);
        for (const slot of plan.slots) if (slot.addr !== LABEL_ADDR && slot.addr >= lens[slot.device]) lens[slot.device] = slot.addr + 1;
        // Each device's ids start as its durable ones; a pick sets its few addresses, then puts them back.
        const scratch = lens.map((n, d) => {
          const arr = new Int32Array(n);
          arr.set(bases[d]!);
          return arr;
        });
        const t = this.#tuple(snaps.length);
        for (let i = 0; i < plan.picks.length; i++) {
          const pick = plan.picks[i];
          for (let d = 0; d < snaps.length; d++) {
            let label = snaps[d].durableLabel;
            let changed = false;
            const arr = scratch[d];
            for (let j = 0; j < plan.slots.length; j++) {
              const slot = plan.slots[j];
              if (slot.device !== d || pick[j] === 0) continue;
              if (slot.addr === LABEL_ADDR) label = slot.options[pick[j]] as DiskLabel;
              else {
                changed = true;
                arr[slot.addr] = slotIds[j]![pick[j]];
              }
            }
            this.#setDevice(t, d, snaps[d].failed, label, changed ? b.idOfIds(arr) : b.idOfMap(snaps[d].durable));
            if (!changed) continue;
            const base = bases[d]!;
            for (let j = 0; j < plan.slots.length; j++) {
              const slot = plan.slots[j];
              if (slot.device === d && slot.addr !== LABEL_ADDR) arr[slot.addr] = slot.addr < base.length ? base[slot.addr] : 0;
            }
          }
          keys[i] = this.#imageIds.id(t);
        }
      }
      return new BufferedSet(keys, plan.exhaustive, snaps, plan);
    }
    const latest = latestImages(snaps);
    const syncKey = this.#imagesKey(latest);
    if (model !== 'torn') return new LatestSet(Int32Array.of(syncKey), true, latest, 1, undefined);
    const plan = tornPlan(snaps, rec.info, seed, nested, b);
    const mixes = plan?.mixes.length ?? 0;
    // Nested inside recovery: the synchronous state first, then the two half tears.
    const first = nested ? 1 : 0;
    const keys = new Int32Array(first + mixes);
    if (nested) keys[0] = syncKey;
    if (plan) {
      const dev = latest[plan.device];
      const base = b.idsOfMap(dev.blocks);
      const arr = base && new Int32Array(Math.max(base.length, plan.addr + 1));
      const t = this.#tuple(latest.length);
      for (let i = 0; i < mixes; i++) {
        for (let d = 0; d < latest.length; d++) {
          const im = latest[d];
          if (d !== plan.device) this.#setDevice(t, d, im.failed, im.label, b.idOfMap(im.blocks));
          else if (arr) {
            arr.fill(0);
            arr.set(base!);
            arr[plan.addr] = b.id(plan.mixes[i].block);
            this.#setDevice(t, d, im.failed, im.label, b.idOfIds(arr));
          } else this.#setDevice(t, d, im.failed, im.label, b.idOfMap(tornImages(plan, i)[d].blocks));
        }
        keys[first + i] = this.#imageIds.id(t);
      }
    }
    return new LatestSet(keys, !nested, latest, first, plan);
  }

  /**
   * Opens the layer over the crash images with its recovery procedure, reads everything
   * back, checks; then crashes recovery at each of its write points (and once after it
   * finished) and recovers again, to `depth` levels. `hist` builds the history up to the
   * crash (only when the state is not a repeat); `path` the crash-state choices.
   */
  async #recoverAndCheck(
    input: CrashInput,
    hist: LazyHistory,
    hkey: number,
    depth: number,
    point: number,
    path: () => string[],
    extra: { failures?: FailureAt[]; probe?: number } = {},
  ): Promise<number> {
    // Outcomes are keyed by (probe and failures, images); explored subtrees by that and (model, history, depth).
    const xkey = extra.probe === undefined && !extra.failures?.length ? 0 : 1 + this.#id(`${extra.probe ?? ''}|${extra.failures?.map((f) => `${f.device}@${f.point}`).join(',') ?? ''}`);
    const okey: OutcomeKey = { x: xkey, images: input.key };
    const byExtra = this.#explored(input.key, xkey);
    const memoKey = this.#memoKey(hkey, depth);
    const cached = byExtra.get(memoKey);
    if (cached !== undefined) return cached;
    // Record recovery's points whenever a nested crash could want them: re-running a recovery costs more than its snapshots.
    const record = this.o.depth > 0 && this.#model !== 'fail' && extra.probe === undefined && !extra.failures?.length;
    const out = await this.#outcome(okey, input, extra, record);
    if (typeof out === 'string') {
      this.#count('violation', point, path, out, hist.build());
      return this.#outcomes.get(okey.x)?.get(okey.images)?.points ?? 0;
    }
    if (out.recoveryError !== undefined) {
      this.#count('violation', point, path, `recovery failed: ${out.recoveryError}`, hist.build());
      return out.points;
    }
    byExtra.set(memoKey, out.points);
    // The history up to the crash plus the read-backs; built only when something needs its events.
    const observations: [string, unknown][] = [];
    if (out.readBacks.length > 0) observations.push([READ_BACK_LABEL, out.readBacks[0]]);
    if (out.readBacks.length > 1) observations.push([`read-back after disk ${extra.probe} failed`, out.readBacks[1]]);
    const full = new LazyHistory(hist, -1, undefined, observations);
    if (out.readError !== undefined) {
      this.#count('violation', point, path, `read-back failed: ${out.readError}`, full.build());
      return out.points;
    }
    // hkey names the history up to the crash exactly, readBacksId the observations: together, the history checked.
    this.#check(hkey, out.readBacksId!, full, point, path);
    if (depth <= 0 || this.#done || extra.probe !== undefined) return out.points;
    // Crash recovery at each of its points, and once after it finished and was read back.
    const recs = out.recs!;
    const model = this.#model === 'fail' ? 'sync' : this.#model;
    const keyIn = this.#id(`${hkey}C`);
    const keyAfter = this.#id(`${hkey}O${out.readBackId}C`);
    const memoIn = this.#memoKey(keyIn, depth - 1);
    const memoAfter = this.#memoKey(keyAfter, depth - 1);
    for (let j = 0; j < recs.length && !this.#done; j++) {
      const rec = recs[j];
      const seed = mixSeed(this.o.seed, point, j, depth);
      const nested = this.#nestedStates(out, model, j, seed);
      const where = rec.info ? `recovery point ${j + 1}` : 'after recovery';
      const key2 = rec.info ? keyIn : keyAfter;
      const memo2 = rec.info ? memoIn : memoAfter;
      // Crashed during recovery: the history so far (no read-back yet); after it: with the read-back.
      let h2: LazyHistory | undefined;
      for (let c = 0; c < nested.keys.length && !this.#done; c++) {
        // Most nested states lead to a subtree explored already: skipped here, without an
        // async call, a history or a path (what #recoverAndCheck would return at once).
        if (this.#explored(nested.keys[c], 0).has(memo2)) continue;
        h2 ??= new LazyHistory(rec.info ? hist : full, -1, `crash at ${where}`);
        await this.#recoverAndCheck({ key: nested.keys[c], lazy: nested, index: c }, h2, key2, depth - 1, point, () => [...path(), `${where} ${model}[${c}] ${nested.choice(c)}`]);
      }
    }
    return out.points;
  }

  /** The explored subtrees over these images with these injected failures and probe: write points by memo key. */
  #explored(images: number, xkey: number): Map<number, number> {
    let byImages = this.#recoveryPoints.get(images);
    if (byImages === undefined) this.#recoveryPoints.set(images, (byImages = new Map()));
    let byExtra = byImages.get(xkey);
    if (byExtra === undefined) byImages.set(xkey, (byExtra = new Map()));
    return byExtra;
  }

  /** (history, depth, model) as one number. Per model: a subtree explored under another model was checked against that model's spec, not this one's. */
  #memoKey(hkey: number, depth: number): number {
    return (hkey * 64 + depth) * 4 + ALL_MODELS.indexOf(this.#model);
  }

  /**
   * The crash states inside a recovery at its point j. Their keys are cached on the
   * outcome where the seed plays no part; the states themselves are rebuilt from the
   * recorded snapshots only if one of them must be built.
   */
  #nestedStates(out: RecoveryOutcome, model: CrashModel, j: number, seed: number): LazyStates {
    const ck = j * ALL_MODELS.length + ALL_MODELS.indexOf(model);
    const known = out.nested.get(ck);
    const rec = out.recs![j];
    if (known) return new DeferredSet(known, () => this.#lazyStates(model, rec, seed, this.o.nestedBounds, true));
    // Recoveries from different crash images often pass through points whose devices hold
    // the same contents: their crash states are keyed once.
    const content = this.o.reuse ? this.#pointContent(model, rec, seed) : undefined;
    const same = content === undefined ? undefined : this.#nestedByContent.get(content);
    if (same !== undefined) {
      if (same.seedFree) out.nested.set(ck, same.keys);
      return new DeferredSet(same.keys, () => this.#lazyStates(model, rec, seed, this.o.nestedBounds, true));
    }
    const states = this.#lazyStates(model, rec, seed, this.o.nestedBounds, true);
    // Buffered states beyond the exhaustive bound are sampled with the seed; every other set is a function of the snapshots.
    const seedFree = states.exhaustive || model !== 'buffered';
    if (seedFree) out.nested.set(ck, states.keys);
    if (content !== undefined) this.#nestedByContent.set(content, { keys: states.keys, seedFree });
    return states;
  }

  /**
   * Names what a recorded point's nested crash states are a function of, by contents:
   * buffered, each device's failure, durable label and blocks and its pending writes in
   * order (and the seed, when their number is past the exhaustive bound and the states
   * are sampled); torn, each device as it reads and the write cut short. Undefined for
   * sync, whose one state is keyed as cheaply as this would be.
   */
  #pointContent(model: CrashModel, rec: { info: PointInfo | undefined; snaps: DeviceSnapshot[] }, seed: number): number | undefined {
    if (model !== 'buffered' && model !== 'torn') return undefined;
    const b = this.#blocks;
    const snaps = rec.snaps;
    let size = 4 + 4 * snaps.length;
    if (model === 'buffered') for (const s of snaps) size += 2 * s.pending.length;
    if (this.#contentScratch.length < size) this.#contentScratch = new Int32Array(2 * size);
    const t = this.#contentScratch;
    let n = 0;
    t[n++] = ALL_MODELS.indexOf(model);
    t[n++] = snaps.length;
    if (model === 'buffered') {
      let pending = 0;
      for (const s of snaps) {
        t[n++] = s.failed ? 1 : 0;
        t[n++] = s.durableLabel === undefined ? 0 : this.#labelId(s.durableLabel);
        t[n++] = b.idOfMap(s.durable);
        t[n++] = s.pending.length;
        for (const p of s.pending) {
          t[n++] = p.addr;
          t[n++] = p.addr === LABEL_ADDR ? this.#labelId(p.label!) : b.id(p.data!);
        }
        pending += s.pending.length;
      }
      const sampled = pending > this.o.nestedBounds.exhaustivePending;
      t[n++] = sampled ? 1 : 0;
      t[n++] = sampled ? seed | 0 : 0;
    } else {
      for (const s of snaps) {
        t[n++] = s.failed ? 1 : 0;
        t[n++] = s.latestLabel === undefined ? 0 : this.#labelId(s.latestLabel);
        t[n++] = b.idOfMap(s.latest);
      }
      const i = rec.info;
      if (i !== undefined && i.kind === 'write' && i.data !== undefined && i.addr !== undefined) {
        t[n++] = i.device;
        t[n++] = i.addr;
        t[n++] = b.id(i.data);
      } else t[n++] = -1;
    }
    return this.#contentIds.id(t.subarray(0, n));
  }

  /**
   * The outcome of recovery over these images: cached, or run now. Every AUDIT_EVERY-th
   * reuse runs it again and compares; a difference is returned as a violation's detail.
   */
  async #outcome(okey: OutcomeKey, input: CrashInput, extra: { failures?: FailureAt[]; probe?: number }, record: boolean): Promise<RecoveryOutcome | string> {
    let byImages = this.#outcomes.get(okey.x);
    if (byImages === undefined) this.#outcomes.set(okey.x, (byImages = new Map()));
    const cached = this.o.reuse ? byImages.get(okey.images) : undefined;
    if (cached && (cached.recs || !record)) {
      this.counters.reused++;
      if (++this.#reuses % AUDIT_EVERY !== 0) return cached;
      this.counters.audits++;
      const again = await this.#runRecovery(cached.images, extra, record);
      return this.#fingerprint(again, record) === this.#fingerprint(cached, record) ? cached : `recovery is not a function of its crash images: two runs over the same images differed (${this.#fingerprint(cached, record)} vs ${this.#fingerprint(again, record)})`;
    }
    const images = cached?.images ?? input.images ?? input.lazy!.images(input.index!);
    const out = await this.#runRecovery(images, extra, record);
    if (cached && this.#fingerprint(cached, false) !== this.#fingerprint(out, false)) {
      return `recovery is not a function of its crash images: two runs over the same images differed (${this.#fingerprint(cached, false)} vs ${this.#fingerprint(out, false)})`;
    }
    byImages.set(okey.images, out);
    return out;
  }

  async #runRecovery(images: readonly DiskImage[], extra: { failures?: FailureAt[]; probe?: number }, record: boolean): Promise<RecoveryOutcome> {
    this.counters.recoveries++;
    const world = new World(this.o.seed, this.#blocks);
    const devs = images.map((img, i) => new SimDevice(world, this.target.devices[i], img));
    world.failures = extra.failures ?? [];
    const recs: { info: PointInfo | undefined; snaps: DeviceSnapshot[] }[] | undefined = record ? [] : undefined;
    if (recs) world.onPoint = (info) => recs.push({ info, snaps: devs.map((d) => d.snapshot()) });
    const nested = new Map<number, Int32Array>();
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
      const hist = new LazyHistory(base.history, rec.histLen, `crash at point ${k}`);
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
        // Only the crash points after k are used.
        const run = await runWorkload(this.target, this.workload, this.o.seed, [{ point: k, device: i }], this.#blocks, k + 1);
        for (let m = k + 1; m <= run.recs.length && !this.#done; m++) {
          const rm = run.recs[m - 1];
          const imgs = latestImages(rm.snaps);
          const variants: [string, DiskImage[]][] = [['stays dead', imgs]];
          if (this.target.transientFailures) variants.push(['comes back stale', imgs.map((im) => ({ ...im, failed: false }))]);
          const h = new LazyHistory(run.history, rm.histLen, `crash at point ${m}`);
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
  #check(hkey: number, readBacksId: number, hist: LazyHistory, point: number, path: () => string[]): void {
    const mkey = hkey * 4 + ALL_MODELS.indexOf(this.#model);
    let byReadBacks = this.#verdicts.get(mkey);
    if (byReadBacks === undefined) this.#verdicts.set(mkey, (byReadBacks = new Map()));
    let v = this.o.reuse ? byReadBacks.get(readBacksId) : undefined;
    if (v !== undefined) {
      this.counters.verdictsReused++;
      if (++this.#verdictReuses % AUDIT_EVERY === 0) {
        this.counters.verdictAudits++;
        const again = this.#judge(hist.build());
        if (again.verdict !== v.verdict || again.detail !== v.detail) {
          this.#count('violation', point, path, `the check is not a function of the history: the same history was judged ${v.verdict} and then ${again.verdict}`, hist.build());
          return;
        }
      }
    } else {
      v = this.#judge(hist.build());
      byReadBacks.set(readBacksId, v);
    }
    this.#count(v.verdict, point, path, v.detail, v.verdict === 'violation' ? hist.build() : undefined);
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

function blocksKey(m: ReadonlyMap<number, Uint8Array>, blocks: BlockStore): string {
  return String(blocks.idOfMap(m));
}

function snapsKey(snaps: readonly DeviceSnapshot[], blocks: BlockStore): string {
  return snaps
    .map((s) => `${s.failed ? 'F' : ''}${JSON.stringify(s.latestLabel ?? null)}${JSON.stringify(s.durableLabel ?? null)}${blocksKey(s.latest, blocks)}#${blocksKey(s.durable, blocks)}#${s.pending.map((p) => `${p.addr}=${p.data ? blocks.id(p.data) : JSON.stringify(p.label)}`).join(',')}`)
    .join('/');
}
