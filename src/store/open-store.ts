import fs from 'node:fs';
import path from 'node:path';
import { logRecovery } from '../../recovery/log-recovery.ts';
import { replicatedDiskRecovery } from '../../recovery/replicated-recovery.ts';
import { storeRecovery } from '../../recovery/stack.ts';
import type { BlockDevice } from '../device/block-device.ts';
import { FileBlockDevice } from '../device/file-block-device.ts';
import { newStoreId } from '../device/image-header.ts';
import { checkGeometry } from '../device/validate.ts';
import { BadImageError, DeviceFailedError, InvalidArgumentError, MismatchError } from '../errors.ts';
import type { LogDisk } from '../wal/log-disk.ts';
import { RESERVED_BLOCKS, decodeSuperblock, formatLog, type LogGeometry } from '../wal/log-format.ts';

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
   * lets more commits pass between installs. Default: a quarter of the data, 2 to 1024.
   */
  logBlocks?: number;
}

/** The store: a transactional disk over a replicated pair. */
export type Store = LogDisk;

export const DISK_FILES = ['disk0.img', 'disk1.img'] as const;

/**
 * Opens (or creates) a store and runs its recovery before returning it.
 *
 * With `dir`: creates the directory and two images (a shared random store id, disk 0 and
 * disk 1) if neither image exists; opens them if both do; refuses a directory with only
 * one. With `devices`: a pair whose disk 0 has an all-zero block 0 is fresh and gets
 * formatted (formatLog writes the superblock last, so a crash while formatting leaves it
 * fresh); a pair whose block 0 is a log superblock is opened; anything else is refused with
 * BadImageError and left untouched.
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
  const present = paths.map((p) => fs.existsSync(p));
  if (present[0] !== present[1]) {
    throw new BadImageError(`${dir} holds ${DISK_FILES[present[0] ? 0 : 1]} but not ${DISK_FILES[present[0] ? 1 : 0]}; refusing to guess`);
  }
  if (!present[0]) return createInDir(dir, paths, options);
  const opened: FileBlockDevice[] = [];
  try {
    for (const p of paths) opened.push(await FileBlockDevice.open(p));
    return await openDevices(opened[0], opened[1], options);
  } catch (err) {
    await Promise.all(opened.map((d) => d.close().catch(() => undefined)));
    throw err;
  }
}

async function createInDir(dir: string, paths: string[], options: OpenStoreOptions): Promise<Store> {
  const numBlocks = options.numBlocks;
  if (numBlocks === undefined) throw new InvalidArgumentError(`no store in ${dir}: numBlocks is needed to create one`);
  const blockSize = options.blockSize ?? 4096;
  const logBlocks = options.logBlocks ?? Math.max(2, Math.min(1024, Math.ceil(numBlocks / 4)));
  checkGeometry(RESERVED_BLOCKS + logBlocks + numBlocks, blockSize);
  fs.mkdirSync(dir, { recursive: true });
  const storeId = newStoreId();
  const made: FileBlockDevice[] = [];
  try {
    for (const index of [0, 1] as const) {
      made.push(await FileBlockDevice.create(paths[index], { numBlocks: RESERVED_BLOCKS + logBlocks + numBlocks, blockSize, label: { storeId, index } }));
    }
    return await openDevices(made[0], made[1], { ...options, logBlocks });
  } catch (err) {
    await Promise.all(made.map((d) => d.close().catch(() => undefined)));
    throw err;
  }
}

async function openDevices(d0: BlockDevice, d1: BlockDevice, options: OpenStoreOptions): Promise<Store> {
  const onDisk = await probeSuperblock(d0, d1);
  if (onDisk) {
    checkMatches(onDisk, d0, options);
    return storeRecovery.recover([d0, d1]);
  }
  // Fresh: the pair's own recovery first (it refuses disks that do not belong together),
  // then the log is formatted through it, so both mirrors get it, then the log's recovery.
  const logBlocks = options.logBlocks ?? Math.max(2, Math.min(1024, Math.floor((d0.numBlocks - RESERVED_BLOCKS) / 5)));
  const dataBlocks = d0.numBlocks - RESERVED_BLOCKS - logBlocks;
  if (options.blockSize !== undefined && options.blockSize !== d0.blockSize) {
    throw new MismatchError(`blockSize ${options.blockSize} asked, the devices have ${d0.blockSize}`);
  }
  if (dataBlocks < 1) throw new MismatchError(`devices of ${d0.numBlocks} blocks leave no data blocks next to a log of ${logBlocks}`);
  if (options.numBlocks !== undefined && options.numBlocks !== dataBlocks) {
    throw new MismatchError(`numBlocks ${options.numBlocks} asked, but devices of ${d0.numBlocks} blocks with a log of ${logBlocks} hold ${dataBlocks}`);
  }
  const pair = await replicatedDiskRecovery.recover([d0, d1]);
  try {
    await formatLog(pair, { logBlocks });
    return await logRecovery.recover(pair);
  } catch (err) {
    await pair.close().catch(() => undefined);
    throw err;
  }
}

/** Block 0 of disk 0 (of disk 1 if disk 0 has failed), read before any recovery writes. */
async function probeSuperblock(d0: BlockDevice, d1: BlockDevice): Promise<LogGeometry | undefined> {
  let block: Uint8Array;
  try {
    block = await d0.read(0);
  } catch (err) {
    if (!(err instanceof DeviceFailedError)) throw err;
    block = await d1.read(0);
  }
  return decodeSuperblock(block);
}

function checkMatches(g: LogGeometry, dev: BlockDevice, o: OpenStoreOptions): void {
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
