import { InvariantError } from '../../src/errors.ts';
import { BlockStore } from './block-store.ts';
import { Prng } from './prng.ts';
import type { SimDevice } from './sim-device.ts';

/** What reaches a device at a write point. */
export type PointKind = 'write' | 'flush' | 'label';

export interface PointInfo {
  /** 1-based number of this point in the run (shared by every device of the world). */
  readonly point: number;
  /** Index of the device in world.devices. */
  readonly device: number;
  readonly kind: PointKind;
  /** For 'write': the block address and the new contents. */
  readonly addr?: number;
  readonly data?: Uint8Array;
}

/** A device failure to inject: `device` fails (fail-stop) when the run reaches `point`. */
export interface FailureAt {
  readonly point: number;
  readonly device: number;
}

/** Bound on scheduler steps of one run, so a livelocked layer ends the run instead of hanging. */
const MAX_STEPS = 1_000_000;

/** A promise that never settles: what an operation at or after the crash point returns. */
export function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

/**
 * One run of the simulated machine: the devices, the shared write-point counter, the
 * crash point and the scheduler.
 *
 * Stopping the world. When the run reaches point `crashAt`, the world stops: that
 * operation and every later one never take effect, and their promises never settle
 * (neither resolve nor reject). We chose "never settle" over "reject" so that no layer
 * code runs after the crash instant: a rejection would run error paths (dropping a
 * mirror, raising an epoch) that a real power loss never lets run. The run is then
 * abandoned; its pending promises are garbage.
 *
 * Scheduling. In 'direct' mode a device operation takes effect and settles at once (in
 * call order), which is how recovery and read-back run. In 'scheduled' mode every device
 * operation takes effect when issued but settles only when the scheduler picks it: after
 * all microtasks have run (everything that can run without a device answer has run), the
 * scheduler resolves one queued operation chosen by the seeded PRNG. So the interleaving
 * of concurrent clients is a function of the seed. Layers must not use timers.
 */
export class World {
  readonly devices: SimDevice[] = [];
  /** Where the devices keep their blocks; an explorer shares one across its worlds. */
  readonly blocks: BlockStore;
  /** Write points issued so far. */
  points = 0;
  /** The point at which the world stops (Infinity: never). */
  crashAt = Number.POSITIVE_INFINITY;
  stopped = false;
  mode: 'direct' | 'scheduled' = 'direct';
  /** When false, operations still work but are not numbered (setup before a workload). */
  counting = true;
  failures: readonly FailureAt[] = [];
  /** Called at each point after injected failures are applied and before the operation takes effect. */
  onPoint: ((info: PointInfo) => void) | undefined;
  /** Device operations that settled through the scheduler (a measure of interleaving work). */
  steps = 0;
  readonly #queue: (() => void)[] = [];
  readonly #prng: Prng;

  constructor(seed: number, blocks: BlockStore = new BlockStore()) {
    this.#prng = new Prng(seed);
    this.blocks = blocks;
  }

  /**
   * Called by a device when an operation reaches it. Returns false when the world has
   * stopped (at or after the crash point): the operation must then hang.
   */
  enter(dev: SimDevice, kind: PointKind, addr?: number, data?: Uint8Array): boolean {
    if (this.stopped) return false;
    if (!this.counting) return true;
    const point = ++this.points;
    for (const f of this.failures) if (f.point === point) this.devices[f.device].fail(`injected failure at point ${point}`);
    this.onPoint?.({ point, device: dev.index, kind, addr, data });
    if (point >= this.crashAt) {
      this.stopped = true;
      return false;
    }
    return true;
  }

  /** Settles an operation: now in direct mode, when the scheduler picks it otherwise. */
  settle<T>(fn: () => T): Promise<T> {
    if (this.stopped) return never();
    if (this.mode === 'direct') {
      try {
        return Promise.resolve(fn());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(() => {
        if (this.stopped) return;
        try {
          resolve(fn());
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  /**
   * Runs `body` (the concurrent clients) in scheduled mode until it finishes or the world
   * stops. Returns 'stopped' or 'done'; throws if the clients deadlock.
   */
  async runScheduled(body: Promise<unknown>): Promise<'stopped' | 'done'> {
    this.mode = 'scheduled';
    let finished = false;
    let failure: unknown;
    body.then(
      () => (finished = true),
      (err) => {
        finished = true;
        failure = err;
      },
    );
    try {
      for (let i = 0; i < MAX_STEPS; i++) {
        // Every microtask has run once a macrotask fires: all clients are now blocked on devices.
        await new Promise<void>((r) => setImmediate(r));
        if (this.stopped) return 'stopped';
        if (this.#queue.length === 0) {
          if (failure !== undefined) throw failure;
          if (!finished) throw new InvariantError('the clients are blocked with no device operation pending (deadlock)');
          return 'done';
        }
        const [task] = this.#queue.splice(this.#prng.int(this.#queue.length), 1);
        this.steps++;
        task();
      }
      throw new InvariantError(`the run did not finish within ${MAX_STEPS} scheduler steps`);
    } finally {
      this.mode = 'direct';
    }
  }
}
