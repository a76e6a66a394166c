import { resync, type ResyncProgress } from '../../recovery/resync.ts';
import type { BlockDevice } from '../device/block-device.ts';
import { isLabelled } from '../device/disk-label.ts';
import { checkAddress, checkBlock, checkRange } from '../device/validate.ts';
import {
  AllDisksFailedError,
  ClosedError,
  DeviceFailedError,
  InvalidBufferError,
  InvalidArgumentError,
  MismatchError,
  invariant,
} from '../errors.ts';
import { AddressLocks } from './address-locks.ts';
import { FlushCoalescer } from './flush-coalescer.ts';

export type DiskState = 'ok' | 'failed' | 'rebuilding';

export interface ReplicatedDiskStatus {
  disks: { index: 0 | 1; state: DiskState }[];
  /** True while fewer than two disks are in sync. */
  degraded: boolean;
}

export interface ReplicatedOpenOptions {
  /** Progress of the recovery pass that makes the mirrors equal. */
  onProgress?: (p: ResyncProgress) => void;
}

interface Mirror {
  dev: BlockDevice;
  state: DiskState;
  flusher: FlushCoalescer;
}

/**
 * Two disks holding the same blocks (the Perennial replicated disk, made real).
 *
 * write(a): under a's lock, write disk 0, then disk 1. read(a): under a's lock, read
 * disk 0, or disk 1 if disk 0 has failed. The per-address lock is what keeps concurrent
 * writes to one address from leaving the mirrors different.
 *
 * Crash invariant (what recovery relies on): wherever the mirrors differ, a write of
 * disk 0's value to that address was in flight. Recovery (open) copies the source disk
 * onto the other, completing or undoing each such write as a whole.
 *
 * A disk that fails is dropped and the store serves from the other (degraded). Before the
 * first write that the dropped disk misses is acknowledged, the survivor's epoch is raised
 * (on labelled devices), so that after a restart the survivor, not the stale disk, is
 * taken as the source.
 */
export class ReplicatedDisk implements BlockDevice {
  readonly blockSize: number;
  readonly numBlocks: number;
  readonly #mirrors: [Mirror, Mirror];
  readonly #locks = new AddressLocks();
  #closed = false;
  #epochBump: Promise<void> | undefined;

  protected constructor(d0: BlockDevice, d1: BlockDevice) {
    this.blockSize = d0.blockSize;
    this.numBlocks = d0.numBlocks;
    this.#mirrors = [mirror(d0), mirror(d1)];
  }

  /**
   * Opens a pair: checks that the disks belong together, then runs the replicated disk's
   * recovery (makes the mirrors equal) before serving anything.
   */
  static async open(d0: BlockDevice, d1: BlockDevice, options: ReplicatedOpenOptions = {}): Promise<ReplicatedDisk> {
    const source = checkPair(d0, d1);
    const disk = new this(d0, d1);
    await disk.recover(source, options);
    return disk;
  }

  /** Opens a pair without recovery. Only for the harness's mutants and for tests. */
  protected static unrecovered(d0: BlockDevice, d1: BlockDevice): ReplicatedDisk {
    checkPair(d0, d1);
    return new this(d0, d1);
  }

  /**
   * The replicated disk's recovery: copy the source disk (disk 0, or the one with the
   * higher epoch) onto the other wherever they differ, then give both the same epoch.
   *
   * If a disk fails during recovery: with equal epochs the pair opens degraded on the
   * other (every block of either disk is then a value the spec allows). With unequal
   * epochs the other disk is stale, so losing the source means no up-to-date copy is
   * left, and the open is refused rather than serve old data.
   */
  protected async recover(source: 0 | 1, options: ReplicatedOpenOptions): Promise<void> {
    const src = this.#mirrors[source];
    const dst = this.#mirrors[1 - source];
    const stale = isLabelled(src.dev) && isLabelled(dst.dev) && dst.dev.label.epoch !== src.dev.label.epoch;
    try {
      // After a process kill the source's latest writes may sit only in the page cache;
      // make them durable before copying them, or a later power loss could bring older
      // values back on the source after the copy has served the newer ones.
      await src.dev.flush();
      await resync(src.dev, dst.dev, { onProgress: options.onProgress });
    } catch (err) {
      if (!(err instanceof DeviceFailedError)) throw err;
      const srcDead = await isDead(src.dev);
      const dstDead = await isDead(dst.dev);
      // A device that reported a failure and then works again is not fail-stop: do not
      // open a half-copied pair as healthy.
      if (!srcDead && !dstDead) throw err;
      if (srcDead && stale) {
        throw new AllDisksFailedError(`disk ${source}, the only up-to-date disk, failed during recovery; disk ${1 - source} is stale`);
      }
      if (srcDead) await this.#dropOnFailure(src, err);
      if (dstDead) await this.#dropOnFailure(dst, err);
      this.#assertAlive();
      return;
    }
    if (stale && isLabelled(src.dev) && isLabelled(dst.dev)) {
      // Only after the copy is flushed may the stale disk claim the survivor's epoch.
      await dst.dev.setLabel({ ...dst.dev.label, epoch: src.dev.label.epoch });
    }
  }

  /** Current state of each disk. */
  status(): ReplicatedDiskStatus {
    const disks = this.#mirrors.map((m, i) => ({ index: i as 0 | 1, state: m.state }));
    return { disks, degraded: disks.some((d) => d.state !== 'ok') };
  }

  /**
   * True when no mirror can serve: both were dropped, or both devices say they have failed
   * (a layer above, e.g. the log's block cache, asks before answering from memory, so a
   * store whose disks are gone stops serving even blocks it still holds).
   */
  get failed(): boolean {
    return this.#mirrors.every((m) => m.state === 'failed' || m.dev.failed === true);
  }

  /** Addresses whose lock is held or awaited right now (bounded by the operations in flight). */
  get activeLocks(): number {
    return this.#locks.size;
  }

  /** Device flushes actually issued per disk (group flushing shows as fewer than calls). */
  get flushCounts(): [number, number] {
    return [this.#mirrors[0].flusher.flushes, this.#mirrors[1].flusher.flushes];
  }

  async read(addr: number): Promise<Uint8Array> {
    this.#checkOpen();
    checkAddress(addr, this.numBlocks);
    return this.#locks.withLock(addr, () => this.readLocked(addr));
  }

  async write(addr: number, data: Uint8Array): Promise<void> {
    this.#checkOpen();
    checkAddress(addr, this.numBlocks);
    checkBlock(data, this.blockSize);
    // No copy: the caller keeps `data` unchanged until this resolves (BlockDevice contract),
    // so both mirrors get the same bytes.
    return this.#locks.withLock(addr, () => this.writeLocked(addr, [data]));
  }

  async writev(addr: number, blocks: readonly Uint8Array[]): Promise<void> {
    this.#checkOpen();
    if (!Array.isArray(blocks)) throw new InvalidBufferError('writev takes an array of blocks');
    if (blocks.length === 0) return;
    checkRange(addr, blocks.length, this.numBlocks);
    for (const b of blocks) checkBlock(b, this.blockSize);
    const list = [...blocks];
    const addrs = list.map((_, i) => addr + i);
    return this.#locks.withLocks(addrs, () => this.writeLocked(addr, list));
  }

  /** Flushes both disks at once; concurrent callers share one flush per disk. */
  async flush(): Promise<void> {
    this.#checkOpen();
    await Promise.all(this.#mirrors.map((m) => this.#onLive(m, () => m.flusher.flush())));
    await this.#settleDegrade();
  }

  /**
   * A write or flush acknowledged while a peer is down must outlive a restart that brings
   * the peer back with old data: the survivor's raised epoch is what says so, so wait for
   * it (whoever started it) and check that a disk is still alive after it.
   */
  async #settleDegrade(): Promise<void> {
    this.#assertAlive();
    if (this.#epochBump) await this.#epochBump;
    this.#assertAlive();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#mirrors.map((m) => m.dev.close().catch(() => undefined)));
  }

  /**
   * Attaches a replacement for a failed disk and rebuilds it from the survivor. Clients
   * keep reading and writing while it runs: each block is copied under its address lock,
   * and writes during the rebuild go to both disks. The replacement's epoch stays below
   * the survivor's until the copy is flushed, so a crash part way makes the next open
   * copy onto it again rather than from it.
   */
  async attach(index: 0 | 1, replacement: BlockDevice, options: ReplicatedOpenOptions = {}): Promise<void> {
    this.#checkOpen();
    if (index !== 0 && index !== 1) throw new InvalidArgumentError(`disk index must be 0 or 1, got ${String(index)}`);
    const slot = this.#mirrors[index];
    const survivor = this.#mirrors[1 - index];
    if (slot.state !== 'failed') throw new InvalidArgumentError(`disk ${index} has not failed; only a failed disk can be replaced`);
    if (survivor.state !== 'ok') throw new AllDisksFailedError();
    if (replacement === survivor.dev || replacement === slot.dev) throw new InvalidArgumentError('the replacement must be a new device');
    if (replacement.blockSize !== this.blockSize || replacement.numBlocks !== this.numBlocks) {
      throw new MismatchError(
        `replacement geometry ${replacement.numBlocks}×${replacement.blockSize} differs from ${this.numBlocks}×${this.blockSize}`,
      );
    }
    if (isLabelled(survivor.dev)) {
      if (!isLabelled(replacement)) throw new MismatchError('the survivor is labelled, so the replacement must be too');
      const want = survivor.dev.label;
      const got = replacement.label;
      if (got.storeId !== want.storeId || got.index !== index || got.epoch >= want.epoch) {
        throw new MismatchError(
          `replacement label ${JSON.stringify(got)} must have store ${want.storeId}, index ${index} and an epoch below ${want.epoch}`,
        );
      }
    }
    // Claim the slot before the first await, so that a second attach() is refused.
    const old = slot.dev;
    slot.dev = replacement;
    slot.flusher = new FlushCoalescer(() => replacement.flush());
    slot.state = 'rebuilding';
    await old.close().catch(() => undefined);
    try {
      await resync(survivor.dev, replacement, { onProgress: options.onProgress, withLock: (a, fn) => this.#locks.withLock(a, fn) });
      if (isLabelled(survivor.dev) && isLabelled(replacement)) {
        await replacement.setLabel({ ...replacement.label, epoch: survivor.dev.label.epoch });
      }
    } catch (err) {
      if (slot.state === 'rebuilding') slot.state = 'failed';
      throw err;
    }
    invariant(slot.state === 'rebuilding', 'a disk under rebuild changed state');
    slot.state = 'ok';
    // Both disks are in sync again: the next failure must raise the epoch anew.
    this.#epochBump = undefined;
  }

  /** Reads under the address lock: disk 0 unless it has failed, then disk 1. */
  protected async readLocked(addr: number): Promise<Uint8Array> {
    for (const m of this.#mirrors) {
      if (m.state !== 'ok') continue;
      try {
        return await m.dev.read(addr);
      } catch (err) {
        await this.#dropOnFailure(m, err);
      }
    }
    throw new AllDisksFailedError();
  }

  /**
   * Writes under the address locks: disk 0, then disk 1 (each as one writev when several
   * blocks). Strictly one after the other: that order is the crash invariant recovery relies
   * on, and it also means `blocks` is in use by one device call at a time until this
   * settles (the log reuses its header buffer on that promise).
   */
  protected async writeLocked(addr: number, blocks: Uint8Array[]): Promise<void> {
    for (const m of this.#mirrors) {
      await this.#onLive(m, () => (blocks.length === 1 || !m.dev.writev ? writeEach(m.dev, addr, blocks) : m.dev.writev(addr, blocks)));
    }
    await this.#settleDegrade();
  }

  /** Runs an operation on a disk that is live (ok or rebuilding); a failure drops the disk. */
  async #onLive(m: Mirror, op: () => Promise<void>): Promise<void> {
    if (m.state === 'failed') return;
    try {
      await op();
    } catch (err) {
      await this.#dropOnFailure(m, err);
    }
  }

  /** Marks a disk failed if err says it has; rethrows anything else. */
  async #dropOnFailure(m: Mirror, err: unknown): Promise<void> {
    if (!(err instanceof DeviceFailedError)) throw err;
    if (m.state === 'failed') return;
    m.state = 'failed';
    const survivor = this.#mirrors.find((x) => x.state === 'ok');
    if (survivor && isLabelled(survivor.dev)) {
      const dev = survivor.dev;
      // Above both disks' epochs, so that no later open can take the two as equal.
      const epoch = Math.max(...this.#mirrors.map((x) => (isLabelled(x.dev) ? x.dev.label.epoch : 0))) + 1;
      this.#epochBump ??= dev.setLabel({ ...dev.label, epoch }).catch(async (e) => this.#dropOnFailure(survivor, e));
      await this.#epochBump;
    }
  }

  #assertAlive(): void {
    if (!this.#mirrors.some((m) => m.state === 'ok')) throw new AllDisksFailedError();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError('replicated disk');
    this.#assertAlive();
  }
}

function mirror(dev: BlockDevice): Mirror {
  return { dev, state: 'ok', flusher: new FlushCoalescer(() => dev.flush()) };
}

async function writeEach(dev: BlockDevice, addr: number, blocks: Uint8Array[]): Promise<void> {
  for (let i = 0; i < blocks.length; i++) await dev.write(addr + i, blocks[i]);
}

/**
 * Refuses a pair that does not belong together and says which disk is the source for
 * recovery: disk 0, unless labels say disk 1 has the higher epoch. Exported so that a layer
 * that must judge the pair before recovery runs (openStore) applies this same rule.
 */
export function checkPair(d0: BlockDevice, d1: BlockDevice): 0 | 1 {
  if (!d0 || !d1) throw new InvalidArgumentError('a replicated disk needs two devices');
  if (d0 === d1) throw new MismatchError('the same device was given as both disks');
  if (d0.blockSize !== d1.blockSize || d0.numBlocks !== d1.numBlocks) {
    throw new MismatchError(`the disks differ in geometry: ${d0.numBlocks}×${d0.blockSize} and ${d1.numBlocks}×${d1.blockSize}`);
  }
  const l0 = isLabelled(d0), l1 = isLabelled(d1);
  if (l0 !== l1) throw new MismatchError('one disk is labelled and the other is not');
  if (!l0 || !l1) return 0;
  const a = d0.label, b = d1.label;
  if (a.storeId !== b.storeId) throw new MismatchError(`the disks belong to different stores (${a.storeId} and ${b.storeId})`);
  if (a.index === b.index) throw new MismatchError(`both disks are disk ${a.index} of their store (a copied image?)`);
  if (a.index !== 0) throw new MismatchError('the disks are swapped: the first device is disk 1 of the store');
  return b.epoch > a.epoch ? 1 : 0;
}

/** True if the device has failed (fail-stop); other errors are not ours to swallow. */
async function isDead(dev: BlockDevice): Promise<boolean> {
  try {
    await dev.read(0);
    return false;
  } catch (err) {
    if (err instanceof DeviceFailedError) return true;
    throw err;
  }
}
