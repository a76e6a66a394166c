import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { logRecovery } from '../../recovery/log-recovery.ts';
import { replicatedDiskRecovery } from '../../recovery/replicated-recovery.ts';
import { checkPair } from '../replicated/replicated-disk.ts';
import { resync } from '../../recovery/resync.ts';
import { storeRecovery } from '../../recovery/stack.ts';
import type { BlockDevice } from '../device/block-device.ts';
import { FileBlockDevice } from '../device/file-block-device.ts';
import { newStoreId } from '../device/image-header.ts';
import { checkGeometry } from '../device/validate.ts';
import { isLabelled } from '../device/disk-label.ts';
import { AllDisksFailedError, BadImageError, DeviceFailedError, InvalidArgumentError, MismatchError } from '../errors.ts';
import type { LogDisk } from '../wal/log-disk.ts';
import { syncDir } from '../device/sync-dir.ts';
import {
  RESERVED_BLOCKS,
  decodeSuperblock,
  defaultLogBlocks,
  formatLog,
  isFormatTailOrZero,
  isZeroBlock,
  logBlocksForData,
  sameLogId,
  type LogSuperblock,
} from '../wal/log-format.ts';

export interface OpenStoreOptions {
  /** A directory holding disk0.img and disk1.img; created with them if absent. */
  dir?: string;
  /** Or two caller-given devices (any BlockDevice), used as disk 0 and disk 1. */
  devices?: readonly [BlockDevice, BlockDevice];
  /**
   * Data blocks the store offers (addresses 0..numBlocks-1). Needed to create a store in
   * `dir`; when opening, it must match what is on disk if given.
   */
  numBlocks?: number;
  /** Bytes per block (4096 unless given); must match what is on disk if given. */
  blockSize?: number;
  /**
   * Size of the circular log in blocks; must match what is on disk if given. A bigger log
   * lets more commits pass between installs. Default: a quarter of the data rounded up,
   * 2 to 1024 (logBlocksForData). On blank devices with `numBlocks` given and no
   * `logBlocks`, the log takes what the data leaves: device blocks − 3 − numBlocks.
   */
  logBlocks?: number;
}

/** The store: a transactional disk over a replicated pair. */
export type Store = LogDisk;

export const DISK_FILES = ['disk0.img', 'disk1.img'] as const;

/**
 * Opens (or creates) a store and runs its recovery before returning it.
 *
 * With `dir`: if neither image exists, creates both under temporary names, formats the
 * store on them, and only then renames them into place (disk1.img first, then disk0.img)
 * and syncs the directory, so a create that dies part way leaves no image, or leaves
 * disk1.img next to the temporary disk 0 of the same store, which the next open renames
 * into place. A create that fails removes what it made. Any other directory with only one
 * image is refused.
 *
 * With `devices` (and after the files are opened), the pair is judged by block 0 of both
 * disks, read before anything is written:
 *   - both blank (block 0 all zero): fresh, but only if blocks 1 .. 3+logBlocks-1 are zero
 *     on both too (block 1 may hold the tail an interrupted format leaves). Formatting then
 *     overwrites only blocks that were zero. The data region is not scanned: the pair's
 *     recovery makes disk 1 equal to disk 0 there, so give two blank devices.
 *   - the recovery source (disk 0, or the disk with the higher epoch) holds the log: opened
 *     by recovery, which copies it over the other disk (a blank replacement is rebuilt).
 *   - disk 0 blank and disk 1 holds the log, unlabelled or with equal epochs (a replaced
 *     disk 0, or a format cut short between the two superblock writes): disk 1 is copied
 *     onto disk 0, block 0 last, then the pair is opened as above. A crash part way leaves
 *     disk 0's block 0 blank, so the next open copies again.
 *   - both hold a log with different log ids: MismatchError (disks of two stores).
 *   - a blank disk next to a failed one: AllDisksFailedError (ERR_DEVICE_FAILED); the failed
 *     disk may hold the store, and formatting would hide its loss.
 *   - anything else (a foreign block 0 or log region, or a blank disk that its label says is
 *     the newer one next to a log): BadImageError, and nothing is written.
 *
 * Geometry given in the options that differs from what is on disk is refused with
 * MismatchError before anything is written. Opening runs `storeRecovery`, the composition
 * of the replicated disk's recovery and the log's.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('openStore needs an options object');
  const { dir, devices } = options;
  if ((dir === undefined) === (devices === undefined)) throw new InvalidArgumentError('openStore needs exactly one of `dir` and `devices`');
  checkOptionalInt('numBlocks', options.numBlocks, 1);
  checkOptionalInt('logBlocks', options.logBlocks, 2);
  if (options.blockSize !== undefined) checkGeometry(1, options.blockSize);
  if (devices !== undefined) {
    if (!Array.isArray(devices) || devices.length !== 2) throw new InvalidArgumentError('`devices` must be two block devices');
    return openDevices(devices[0], devices[1], options);
  }
  if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError('`dir` must be a non-empty path');
  const paths = DISK_FILES.map((f) => path.join(dir, f));
  let present = paths.map((p) => fs.existsSync(p));
  if (!present[0] && present[1] && (await finishRename(dir, paths))) present = [true, true];
  if (present[0] !== present[1]) {
    throw new BadImageError(`${dir} holds ${DISK_FILES[present[0] ? 0 : 1]} but not ${DISK_FILES[present[0] ? 1 : 0]}; refusing to guess`);
  }
  if (!present[0]) await createInDir(dir, paths, options);
  return openFiles(paths, options);
}

async function openFiles(paths: readonly string[], options: OpenStoreOptions): Promise<Store> {
  const opened: FileBlockDevice[] = [];
  try {
    for (const p of paths) opened.push(await FileBlockDevice.open(p));
    return await openDevices(opened[0], opened[1], options);
  } catch (err) {
    await Promise.all(opened.map((d) => d.close().catch(() => undefined)));
    throw err;
  }
}

/** Temporary image names of a create in progress: disk0.img.<16 hex>.tmp. */
const TEMP_IMAGE = /^disk([01])\.img\.[0-9a-f]{16}\.tmp$/;

/**
 * A create that died between its two renames left disk1.img and a temporary disk 0 of the
 * same store: finish the rename. Returns whether it did.
 */
async function finishRename(dir: string, paths: readonly string[]): Promise<boolean> {
  const candidates = fs.readdirSync(dir).filter((f) => TEMP_IMAGE.exec(f)?.[1] === '0');
  if (candidates.length !== 1) return false;
  const tmp = path.join(dir, candidates[0]);
  const [d0, d1] = [await FileBlockDevice.open(tmp).catch(() => undefined), await FileBlockDevice.open(paths[1]).catch(() => undefined)];
  const same = d0 !== undefined && d1 !== undefined && d0.label.storeId === d1.label.storeId && d0.label.index === 0 && d1.label.index === 1;
  await Promise.all([d0?.close(), d1?.close()]);
  if (!same) return false;
  fs.renameSync(tmp, paths[0]);
  syncDir(dir);
  return true;
}

/**
 * Creates and formats both images under temporary names, then renames them into place.
 * On failure, removes the files (and the directory) this call made.
 */
async function createInDir(dir: string, paths: readonly string[], options: OpenStoreOptions): Promise<void> {
  const numBlocks = options.numBlocks;
  if (numBlocks === undefined) throw new InvalidArgumentError(`no store in ${dir}: numBlocks is needed to create one`);
  const blockSize = options.blockSize ?? 4096;
  const logBlocks = options.logBlocks ?? logBlocksForData(numBlocks);
  checkGeometry(RESERVED_BLOCKS + logBlocks + numBlocks, blockSize);
  const dirExisted = fs.existsSync(dir);
  fs.mkdirSync(dir, { recursive: true });
  // Neither image exists, so temporary images here are what an earlier create left when it died.
  for (const f of fs.readdirSync(dir)) if (TEMP_IMAGE.test(f)) fs.rmSync(path.join(dir, f), { force: true });
  const storeId = newStoreId();
  const suffix = crypto.randomBytes(8).toString('hex');
  const temps = paths.map((p) => `${p}.${suffix}.tmp`);
  const made: FileBlockDevice[] = [];
  let store: Store | undefined;
  try {
    for (const index of [0, 1] as const) {
      made.push(await FileBlockDevice.create(temps[index], { numBlocks: RESERVED_BLOCKS + logBlocks + numBlocks, blockSize, label: { storeId, index } }));
    }
    store = await openDevices(made[0], made[1], { ...options, numBlocks, logBlocks });
    await store.close();
    // Disk 1 first: a crash between the renames leaves disk1.img next to disk 0's temporary
    // image, which finishRename() recognises by the shared store id. The directory is synced
    // between them because POSIX does not order two renames' durability: without it a crash
    // could keep disk0.img and lose disk1.img, a directory the next open refuses.
    fs.renameSync(temps[1], paths[1]);
    syncDir(dir);
    fs.renameSync(temps[0], paths[0]);
    syncDir(dir);
  } catch (err) {
    await store?.close().catch(() => undefined);
    await Promise.all(made.map((d) => d.close().catch(() => undefined)));
    for (const t of temps) fs.rmSync(t, { force: true });
    if (!dirExisted) fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}


type Block0 = { kind: 'failed'; err: DeviceFailedError } | { kind: 'blank' } | { kind: 'log'; sb: LogSuperblock } | { kind: 'foreign'; err: unknown };

async function probeBlock0(d: BlockDevice): Promise<Block0> {
  let b: Uint8Array;
  try {
    b = await d.read(0);
  } catch (err) {
    if (err instanceof DeviceFailedError) return { kind: 'failed', err };
    throw err;
  }
  if (isZeroBlock(b)) return { kind: 'blank' };
  try {
    return { kind: 'log', sb: decodeSuperblock(b)! };
  } catch (err) {
    return { kind: 'foreign', err };
  }
}

async function openDevices(d0: BlockDevice, d1: BlockDevice, options: OpenStoreOptions): Promise<Store> {
  // The pair's own checks, made before this module writes anything; and the disk its
  // recovery copies from (disk 0, unless labels make disk 1 the newer).
  const source = checkPair(d0, d1);
  const disks = [d0, d1] as const;
  const b0 = [await probeBlock0(d0), await probeBlock0(d1)] as const;
  if (b0[0].kind === 'failed' && b0[1].kind === 'failed') throw new AllDisksFailedError('both disks failed before the store could be opened');
  for (const b of b0) if (b.kind === 'foreign') throw b.err;
  const src = b0[source];
  const other = b0[1 - source];
  if (src.kind === 'log' || (src.kind === 'failed' && other.kind === 'log')) {
    const sb = src.kind === 'log' ? src.sb : (other as { sb: LogSuperblock }).sb;
    if (src.kind === 'log' && other.kind === 'log' && !sameLogId(src.sb.id, other.sb.id)) {
      throw new MismatchError('the two disks hold the logs of two different stores');
    }
    checkMatches(sb, d0, options);
    return storeRecovery.recover([d0, d1]);
  }
  if (src.kind === 'blank' && other.kind === 'log') {
    const labelled = isLabelled(d0) && isLabelled(d1);
    if (labelled && d0.label.epoch !== d1.label.epoch) {
      throw new BadImageError(`disk ${source} is blank but its label says it is newer than disk ${1 - source}, which holds the store; refusing to guess`);
    }
    checkMatches(other.sb, d0, options);
    await rebuildBlank(disks[1 - source], disks[source]);
    return storeRecovery.recover([d0, d1]);
  }
  // A blank disk next to a failed one: the failed disk may hold the store, which nothing
  // can read now. Formatting would hand back an empty store as if nothing were lost.
  if (b0[0].kind === 'failed' || b0[1].kind === 'failed') {
    const dead = b0[0].kind === 'failed' ? 0 : 1;
    throw new AllDisksFailedError(
      `disk ${dead} has failed and disk ${1 - dead} is blank: no readable disk holds a store, so none is formatted over it (replace the failed disk too to create a new store)`,
    );
  }
  // Both blank: fresh, if nothing is where the format writes.
  const logBlocks = freshLogBlocks(d0, options);
  for (let i = 0; i < 2; i++) if (b0[i].kind === 'blank') await checkBlank(disks[i], i, logBlocks);
  // The pair's own recovery first, then the log is formatted through it, so both mirrors
  // get it (superblock last), then the log's recovery.
  const pair = await replicatedDiskRecovery.recover([d0, d1]);
  try {
    await formatLog(pair, { logBlocks });
    return await logRecovery.recover(pair);
  } catch (err) {
    await pair.close().catch(() => undefined);
    throw err;
  }
}

/** The log size for a fresh pair, from the options and the devices (one rule: see log-format.ts). */
function freshLogBlocks(d: BlockDevice, options: OpenStoreOptions): number {
  if (options.blockSize !== undefined && options.blockSize !== d.blockSize) {
    throw new MismatchError(`blockSize ${options.blockSize} asked, the devices have ${d.blockSize}`);
  }
  const room = d.numBlocks - RESERVED_BLOCKS;
  let logBlocks: number;
  if (options.logBlocks !== undefined) logBlocks = options.logBlocks;
  else if (options.numBlocks !== undefined) logBlocks = room - options.numBlocks;
  else if (room >= 3) logBlocks = defaultLogBlocks(d.numBlocks);
  else throw new MismatchError(`devices of ${d.numBlocks} blocks have no room for a log and data`);
  const dataBlocks = room - logBlocks;
  if (logBlocks < 2 || dataBlocks < 1) throw new MismatchError(`devices of ${d.numBlocks} blocks cannot hold a log of ${logBlocks} blocks and ${dataBlocks} data blocks`);
  if (options.numBlocks !== undefined && options.numBlocks !== dataBlocks) {
    throw new MismatchError(`numBlocks ${options.numBlocks} asked, but devices of ${d.numBlocks} blocks with a log of ${logBlocks} hold ${dataBlocks}`);
  }
  return logBlocks;
}

/** Refuses to format a disk that holds anything where the format writes. */
async function checkBlank(d: BlockDevice, index: number, logBlocks: number): Promise<void> {
  for (let addr = 1; addr < RESERVED_BLOCKS + logBlocks; addr++) {
    const b = await d.read(addr);
    const ok = addr === 1 ? isFormatTailOrZero(b) : isZeroBlock(b);
    if (!ok) throw new BadImageError(`disk ${index} has an empty block 0 but block ${addr} is not empty: not a blank device (a foreign image?); refusing to format it`);
  }
}

/**
 * Copies the disk that holds the store onto a blank one, block 0 last and only after the
 * rest is durable, so that until the copy is whole the blank disk still reads as blank.
 */
async function rebuildBlank(from: BlockDevice, to: BlockDevice): Promise<void> {
  await from.flush();
  await resync(from, to, { start: 1 });
  await to.write(0, await from.read(0));
  await to.flush();
}

function checkMatches(g: LogSuperblock, dev: BlockDevice, o: OpenStoreOptions): void {
  const diffs: string[] = [];
  if (o.numBlocks !== undefined && o.numBlocks !== g.dataBlocks) diffs.push(`numBlocks ${o.numBlocks} asked, ${g.dataBlocks} on disk`);
  if (o.logBlocks !== undefined && o.logBlocks !== g.logBlocks) diffs.push(`logBlocks ${o.logBlocks} asked, ${g.logBlocks} on disk`);
  if (o.blockSize !== undefined && o.blockSize !== g.blockSize) diffs.push(`blockSize ${o.blockSize} asked, ${g.blockSize} on disk`);
  if (dev.blockSize !== g.blockSize || dev.numBlocks !== RESERVED_BLOCKS + g.logBlocks + g.dataBlocks) {
    diffs.push(`the device has ${dev.numBlocks} blocks of ${dev.blockSize} bytes, the log was made for ${RESERVED_BLOCKS + g.logBlocks + g.dataBlocks} of ${g.blockSize}`);
  }
  if (diffs.length > 0) throw new MismatchError(`the store on disk differs from the options: ${diffs.join('; ')}`);
}

function checkOptionalInt(name: string, v: unknown, min: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError(`${name} must be an integer of at least ${min}, got ${String(v)}`);
}
