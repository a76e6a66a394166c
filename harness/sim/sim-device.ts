import { AbstractBlockDevice } from '../../src/device/abstract-block-device.ts';
import type { DiskLabel, LabelledBlockDevice } from '../../src/device/disk-label.ts';
import { DeviceFailedError, invariant } from '../../src/errors.ts';
import { checkAddress, checkBlock } from '../../src/device/validate.ts';
import { BlockMap } from './block-map.ts';
import { freshBlock } from './block-store.ts';
import { never, type World } from './world.ts';

/** Runs fn with stack traces off (errors it builds have an empty stack). */
function withoutStacks<T>(fn: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Address used in the pending list for a label rewrite. */
export const LABEL_ADDR = -1;

/** A write issued since the device's last completed flush. */
export interface PendingWrite {
  readonly seq: number;
  /** Block address, or LABEL_ADDR for a label rewrite. */
  readonly addr: number;
  readonly data?: Uint8Array;
  readonly label?: DiskLabel;
}

/**
 * What a device holds at one instant, kept cheaply: the maps are shared with the device
 * until it next writes (copy on write), the pending list is a prefix of an append-only
 * array. Nothing in a snapshot may be mutated.
 */
export interface DeviceSnapshot {
  readonly durable: ReadonlyMap<number, Uint8Array>;
  readonly durableLabel: DiskLabel | undefined;
  /** Writes since the last completed flush, oldest first. */
  readonly pending: readonly PendingWrite[];
  /** What reads return: durable with every pending write applied. */
  readonly latest: ReadonlyMap<number, Uint8Array>;
  readonly latestLabel: DiskLabel | undefined;
  readonly failed: boolean;
}

/** The contents a device starts from after a crash. */
export interface DiskImage {
  readonly blocks: ReadonlyMap<number, Uint8Array>;
  readonly label: DiskLabel | undefined;
  /** A disk that failed stays failed (fail-stop). */
  readonly failed: boolean;
}

export interface SimGeometry {
  numBlocks: number;
  blockSize: number;
}

/**
 * A simulated block device for the crash harness. Every write (each block of a writev)
 * and every flush is a numbered write point on the world's shared counter; setLabel is a
 * label write point followed by a flush point. The device keeps durable contents and the
 * writes pending since its last completed flush, so that the crash models can say what a
 * crash at any point may leave (see crash-states.ts).
 *
 * A flush makes durable the writes issued before it was called, when it completes (when
 * the scheduler settles it), as a drive's cache flush does.
 */
export class SimDevice extends AbstractBlockDevice implements LabelledBlockDevice {
  readonly world: World;
  readonly index: number;
  #durable: BlockMap;
  #durableShared: boolean;
  #latest: BlockMap;
  #latestShared: boolean;
  #durableLabel: DiskLabel | undefined;
  #latestLabel: DiskLabel | undefined;
  #pending: PendingWrite[] = [];
  #seq = 0;

  constructor(world: World, geometry: SimGeometry, image?: DiskImage) {
    super(geometry.numBlocks, geometry.blockSize);
    this.world = world;
    this.index = world.devices.length;
    world.devices.push(this);
    this.#durable = BlockMap.of(image?.blocks);
    this.#latest = this.#durable;
    this.#durableShared = this.#latestShared = true;
    this.#durableLabel = this.#latestLabel = image?.label;
    if (image?.failed) this.fail('failed before this run');
  }

  /** The label as last written (what a reader of the header sees). Undefined on an unlabelled device. */
  get label(): DiskLabel {
    return this.#latestLabel as DiskLabel;
  }

  /** Sets the label durably without a write point (formatting, before a run is observed). */
  initLabel(label: DiskLabel): void {
    this.#durableLabel = this.#latestLabel = label;
  }

  /** Fail-stop: every later call rejects with DeviceFailedError. */
  fail(reason = 'failed on purpose'): void {
    withoutStacks(() => this.markFailed(reason));
  }

  /**
   * The fail model makes tens of thousands of failed devices and calls to them; their
   * errors are built without stack traces (layers and the checker see only code and
   * message), which were most of the cost of building them.
   */
  protected override checkUsable(): void {
    if (!this.failed) super.checkUsable();
    else withoutStacks(() => super.checkUsable());
  }

  /** Makes everything durable at once, without points (end of setup). */
  settleAll(): void {
    this.#durable = this.#latest;
    this.#durableShared = this.#latestShared = true;
    this.#durableLabel = this.#latestLabel;
    this.#pending = [];
  }

  snapshot(): DeviceSnapshot {
    this.#durableShared = this.#latestShared = true;
    return {
      durable: this.#durable,
      durableLabel: this.#durableLabel,
      pending: this.#pending.length === 0 ? [] : this.#pending.slice(),
      latest: this.#latest,
      latestLabel: this.#latestLabel,
      failed: this.failed,
    };
  }

  async setLabel(label: DiskLabel): Promise<void> {
    this.checkUsable();
    if (!this.world.enter(this, 'label')) return never();
    this.#checkInjected();
    this.#pending.push({ seq: ++this.#seq, addr: LABEL_ADDR, label });
    this.#latestLabel = label;
    await this.world.settle(() => undefined);
    await this.flush();
  }

  // Direct mode (recovery and read-back, where the explorer spends most of its time): an
  // operation takes effect and settles at once, so read/write/flush do the base class's
  // checks and the operation here and return one settled promise, instead of three
  // chained async calls (the scheduled mode, whose interleavings depend on when promises
  // settle, goes through the base class unchanged). The order of effects is the same: in
  // both paths an operation takes effect synchronously, when it is called.

  override read(addr: number): Promise<Uint8Array> {
    if (this.world.mode !== 'direct' || this.world.stopped) return super.read(addr);
    try {
      this.checkUsable();
      checkAddress(addr, this.numBlocks);
      return Promise.resolve(freshBlock(this.#latest.get(addr), this.blockSize));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  override write(addr: number, data: Uint8Array): Promise<void> {
    if (this.world.mode !== 'direct' || this.world.stopped) return super.write(addr, data);
    try {
      this.checkUsable();
      checkAddress(addr, this.numBlocks);
      checkBlock(data, this.blockSize);
      return this.#write(addr, data);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  override flush(): Promise<void> {
    if (this.world.mode !== 'direct' || this.world.stopped) return super.flush();
    try {
      this.checkUsable();
      return this.#flush();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  protected async _read(addr: number): Promise<Uint8Array> {
    return this.world.settle(() => {
      this.checkUsable();
      return freshBlock(this.#latest.get(addr), this.blockSize);
    });
  }

  protected async _write(addr: number, data: Uint8Array): Promise<void> {
    return this.#write(addr, data);
  }

  /** The write takes effect now (a throw is an injected failure); settles when the world says. */
  #write(addr: number, data: Uint8Array): Promise<void> {
    // Stored blocks are shared and never mutated: equal contents are stored once. The point
    // sees the stored block too, not the caller's buffer (which the caller may reuse).
    const copy = this.world.blocks.intern(data);
    if (!this.world.enter(this, 'write', addr, copy)) return never();
    this.#checkInjected();
    this.#pending.push({ seq: ++this.#seq, addr, data: copy });
    if (this.#latestShared) {
      this.#latest = this.#latest.copy();
      this.#latestShared = false;
    }
    this.#latest.set(addr, copy);
    return this.world.settle(() => undefined);
  }

  protected async _flush(): Promise<void> {
    return this.#flush();
  }

  #flush(): Promise<void> {
    if (!this.world.enter(this, 'flush')) return never();
    this.#checkInjected();
    const upto = this.#seq;
    return this.world.settle(() => this.#complete(upto));
  }

  protected async _close(): Promise<void> {}

  /** A failure injected at this very point makes the operation reject. */
  #checkInjected(): void {
    if (this.failed) withoutStacks(() => {
      throw new DeviceFailedError('the device has failed');
    });
  }

  /** A flush completes: every write issued before it (seq <= upto) becomes durable. */
  #complete(upto: number): void {
    this.#checkInjected();
    if (this.#pending.length === 0 || this.#pending[0].seq > upto) return;
    if (this.#durableShared) {
      this.#durable = this.#durable.copy();
      this.#durableShared = false;
    }
    const rest: PendingWrite[] = [];
    for (const p of this.#pending) {
      if (p.seq > upto) rest.push(p);
      else if (p.addr === LABEL_ADDR) this.#durableLabel = p.label;
      else this.#durable.set(p.addr, p.data as Uint8Array);
    }
    this.#pending = rest;
    invariant(rest.length > 0 || this.#durable.size <= this.#latest.size, 'durable holds a block that latest does not');
  }
}
