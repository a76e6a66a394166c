/**
 * The write-ahead log's on-disk format (over any BlockDevice).
 *
 *   block 0              superblock: magic "TWLG", format version, blockSize, logBlocks,
 *                        dataBlocks, a 16-byte random log id, crc32. Written once, last,
 *                        by formatLog(). The id is drawn anew by every format: it names the
 *                        store (two disks whose superblocks carry different ids belong to
 *                        different stores) and it salts every record checksum (below).
 *   blocks 1 and 2       tail pointer slots A and B: magic "TWTL", tail position (0..logBlocks-1),
 *                        tail sequence number (the seq of the record expected at that position),
 *                        crc32. Updates alternate between the slots; the valid slot with the
 *                        higher seq is the tail. (Two slots, so that a torn tail write leaves the
 *                        previous tail readable; the log space behind the previous tail is not
 *                        reused until the new one is flushed, so the previous one is still right.)
 *   blocks 3 .. 3+logBlocks-1            the circular log.
 *   blocks 3+logBlocks .. +dataBlocks-1  the data region: data address a lives at 3+logBlocks+a.
 *
 * A record is a header block followed by its data blocks, contiguous in the circular log
 * (it may wrap past the end to position 0). A record carries the writes of one or more
 * transactions of one commit group, in commit order (LogDisk packs a group into as few
 * records as header capacity allows, so that 16 one-block commits cost 17 log blocks, not
 * 32); a transaction never spans two records, and a record is replayed whole or not at
 * all, later blocks of one address winning. Header: magic "TWRC" (u32), count (u32), seq
 * (u64), crc32 (u32), then `count` home addresses (u32 each). The crc32 covers, in order:
 * the log id, the header's place in the log (u32, 0..logBlocks-1), the header's first
 * 20 + 4·count bytes with the crc field zeroed, then every data block.
 *
 * Why the checksum is salted and placed. Data blocks go into the log raw, so a client can
 * write a block that looks like a record header (magic, count, the seq recovery will expect,
 * a checksum over what it guesses will follow). When a later recovery starts at a stale log
 * position where such a block lies, an unsalted checksum would let it through and install
 * the client's chosen block at the client's chosen address. The id is secret from clients
 * (block 0 is outside the data region they can read or write, and record checksums are
 * never shown), so a forged header passes with probability 2^-32, the same odds as a random
 * block; the position ties a record to the slot it was written at, and a new format's id
 * makes every record of an earlier use of the device worthless. We chose this over jbd2's
 * escaping of data blocks that begin with the record magic because it costs nothing on the
 * commit path (no per-block scan, no escaped copies, no flag bits in the header) and it
 * also covers stale records of an earlier format, which escaping does not.
 *
 * A record is committed iff it is wholly readable with a valid checksum and carries the
 * expected next sequence number, starting from the tail pointer's seq. THE COMMIT POINT is
 * the device flush that follows the group's log writes (LogDisk.flushLog()): before it
 * resolves nobody is told the transaction committed; after it, recovery finds the record.
 * With two groups in flight (LogDisk appends the next group while a flush runs) the later
 * group's records are found only behind whole records of the earlier one, so a group is
 * acknowledged after its own flush AND the acknowledgement of the group before it; if the
 * earlier group fails, so does the later, whatever its own flush did.
 *
 * Recovery scans from the tail while records are committed, writes their blocks home in
 * order, flushes, then writes a new tail past them with seq = last replayed seq + 1 +
 * logBlocks, and flushes. The jump matters: records of a torn group (or of earlier laps)
 * may follow the tail with seqs just above it, and new records written after recovery must
 * never line up with them. Every record physically in the log has a seq below
 * (tail seq + logBlocks), so after the jump none of them can ever be taken as committed.
 *
 * Sizing: one rule, logBlocksForData(), a quarter of the data region rounded up, between 2
 * and 1024 blocks. splitDevice() inverts it for a device of a given size, so a store made
 * from `numBlocks` and a blank device of the same total size get the same geometry.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { BlockDevice } from '../device/block-device.ts';
import { writeBlocks } from '../device/block-device.ts';
import { BadImageError, InvalidArgumentError, MismatchError, UnsupportedVersionError, invariant } from '../errors.ts';

export const SUPERBLOCK_MAGIC = 0x544c5747; // "TWLG"
export const TAIL_MAGIC = 0x4c545754; // "TWTL"
export const RECORD_MAGIC = 0x43525754; // "TWRC"
/** 2: the superblock carries the log id, and record checksums are salted with it and placed. */
export const LOG_FORMAT_VERSION = 2;
export const LOG_ID_BYTES = 16;
const SUPERBLOCK_ID_OFFSET = 20;
const SUPERBLOCK_CRC_OFFSET = SUPERBLOCK_ID_OFFSET + LOG_ID_BYTES;
/** Superblock + two tail slots. */
export const RESERVED_BLOCKS = 3;
const RECORD_HEADER_FIXED_BYTES = 20;

export interface LogGeometry {
  blockSize: number;
  logBlocks: number;
  dataBlocks: number;
}

/** What the superblock holds: the geometry and the log id. */
export interface LogSuperblock extends LogGeometry {
  /** Random per format; salts record checksums and names the store. */
  id: Uint8Array;
}

/** Where things are on the device, derived from the geometry. */
export class LogLayout implements LogGeometry {
  readonly blockSize: number;
  readonly logBlocks: number;
  readonly dataBlocks: number;
  readonly logStart = RESERVED_BLOCKS;
  readonly dataStart: number;
  /** Home addresses one header block can hold. */
  readonly headerCapacity: number;
  /** The most blocks one transaction may write: it must fit in one record and in the log. */
  readonly maxTxBlocks: number;
  /** The log id (see the top of this module). */
  readonly id: Uint8Array;
  /** crc32 of the id: every record checksum starts from it. */
  readonly idCrc: number;

  constructor(g: LogGeometry, id: Uint8Array) {
    invariant(id.length === LOG_ID_BYTES, 'a log id is 16 bytes');
    this.id = id;
    this.idCrc = zlib.crc32(id) >>> 0;
    this.blockSize = g.blockSize;
    this.logBlocks = g.logBlocks;
    this.dataBlocks = g.dataBlocks;
    this.dataStart = RESERVED_BLOCKS + g.logBlocks;
    this.headerCapacity = Math.floor((g.blockSize - RECORD_HEADER_FIXED_BYTES) / 4);
    this.maxTxBlocks = Math.min(this.headerCapacity, g.logBlocks - 1);
  }

  get deviceBlocks(): number {
    return RESERVED_BLOCKS + this.logBlocks + this.dataBlocks;
  }

  /** Device address of log position `pos` (taken modulo the log size). */
  logAddr(pos: number): number {
    return this.logStart + (pos % this.logBlocks);
  }
}

export interface TailPointer {
  /** Position in the log (0..logBlocks-1) of the first record not yet installed. */
  pos: number;
  /** Sequence number that record must carry. */
  seq: number;
  /** The slot (0 = block 1, 1 = block 2) this pointer was read from or is to be written to. */
  slot: 0 | 1;
}

export function crc32(chunks: readonly Uint8Array[]): number {
  let c = 0;
  for (const chunk of chunks) c = zlib.crc32(chunk, c);
  return c >>> 0;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function isZeroBlock(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

// ── superblock ─────────────────────────────────────────────────────────────

export function encodeSuperblock(g: LogSuperblock): Uint8Array {
  invariant(g.id.length === LOG_ID_BYTES, 'a log id is 16 bytes');
  const b = new Uint8Array(g.blockSize);
  const v = view(b);
  v.setUint32(0, SUPERBLOCK_MAGIC);
  v.setUint32(4, LOG_FORMAT_VERSION);
  v.setUint32(8, g.blockSize);
  v.setUint32(12, g.logBlocks);
  v.setUint32(16, g.dataBlocks);
  b.set(g.id, SUPERBLOCK_ID_OFFSET);
  v.setUint32(SUPERBLOCK_CRC_OFFSET, crc32([b.subarray(0, SUPERBLOCK_CRC_OFFSET)]));
  return b;
}

/**
 * Decodes block 0. Returns undefined for an all-zero block (no log there yet); throws
 * BadImageError for anything else that is not a valid superblock.
 */
export function decodeSuperblock(b: Uint8Array): LogSuperblock | undefined {
  if (isZeroBlock(b)) return undefined;
  const v = view(b);
  if (b.length < SUPERBLOCK_CRC_OFFSET + 4 || v.getUint32(0) !== SUPERBLOCK_MAGIC) {
    throw new BadImageError('block 0 holds no twindisk write-ahead log superblock (a foreign image?)');
  }
  const version = v.getUint32(4);
  // The version is judged before the checksum: another version may lay the block out differently.
  if (version !== LOG_FORMAT_VERSION) throw new UnsupportedVersionError(`write-ahead log format version ${version}; this code reads ${LOG_FORMAT_VERSION}`);
  if (v.getUint32(SUPERBLOCK_CRC_OFFSET) !== crc32([b.subarray(0, SUPERBLOCK_CRC_OFFSET)])) throw new BadImageError('the write-ahead log superblock has a bad checksum');
  return {
    blockSize: v.getUint32(8),
    logBlocks: v.getUint32(12),
    dataBlocks: v.getUint32(16),
    id: b.slice(SUPERBLOCK_ID_OFFSET, SUPERBLOCK_ID_OFFSET + LOG_ID_BYTES),
  };
}

export function sameLogId(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Reads and checks the superblock against the device it sits on. */
export async function readLayout(device: BlockDevice): Promise<LogLayout> {
  const g = decodeSuperblock(await device.read(0));
  if (!g) throw new BadImageError('the device holds no write-ahead log (block 0 is empty); format it first');
  const layout = new LogLayout(g, g.id);
  if (g.blockSize !== device.blockSize || layout.deviceBlocks !== device.numBlocks) {
    throw new MismatchError(
      `the log was made for ${layout.deviceBlocks} blocks of ${g.blockSize} bytes, the device has ${device.numBlocks} of ${device.blockSize}`,
    );
  }
  return layout;
}

// ── tail pointer ───────────────────────────────────────────────────────────

export function encodeTail(t: TailPointer, blockSize: number): Uint8Array {
  const b = new Uint8Array(blockSize);
  const v = view(b);
  v.setUint32(0, TAIL_MAGIC);
  v.setUint32(4, t.pos);
  v.setBigUint64(8, BigInt(t.seq));
  v.setUint32(16, crc32([b.subarray(0, 16)]));
  return b;
}

export function decodeTail(b: Uint8Array, slot: 0 | 1): TailPointer | undefined {
  const v = view(b);
  if (v.getUint32(0) !== TAIL_MAGIC || v.getUint32(16) !== crc32([b.subarray(0, 16)])) return undefined;
  return { pos: v.getUint32(4), seq: Number(v.getBigUint64(8)), slot };
}

/** The current tail: the valid slot with the higher seq. */
export async function readTail(device: BlockDevice, layout: LogLayout): Promise<TailPointer> {
  const a = decodeTail(await device.read(1), 0);
  const b = decodeTail(await device.read(2), 1);
  const t = a && b ? (b.seq > a.seq ? b : a) : (a ?? b);
  if (!t) throw new BadImageError('both tail pointer slots of the write-ahead log are corrupt');
  if (t.pos >= layout.logBlocks) throw new BadImageError(`the log tail ${t.pos} lies outside the log of ${layout.logBlocks} blocks`);
  return t;
}

/** Writes a tail pointer into its slot. Not durable until the caller flushes. */
export async function writeTail(device: BlockDevice, layout: LogLayout, t: TailPointer): Promise<void> {
  invariant(t.pos >= 0 && t.pos < layout.logBlocks, () => `tail position ${t.pos} outside the log`);
  await device.write(1 + t.slot, encodeTail(t, layout.blockSize));
}

// ── records ────────────────────────────────────────────────────────────────

export interface LogRecord {
  /** Absolute log position of the header (modulo logBlocks gives the place in the log). */
  pos: number;
  seq: number;
  addrs: readonly number[];
  blocks: readonly Uint8Array[];
  header: Uint8Array;
}

/**
 * Builds the header of a record whose header lies at log position `pos` (absolute or not:
 * only its place modulo logBlocks counts).
 */
export function encodeRecordHeader(
  layout: LogLayout,
  pos: number,
  seq: number,
  addrs: readonly number[],
  blocks: readonly Uint8Array[],
  into?: Uint8Array,
): Uint8Array {
  invariant(addrs.length === blocks.length && addrs.length > 0, 'a record holds one block per address, at least one');
  invariant(RECORD_HEADER_FIXED_BYTES + 4 * addrs.length <= layout.blockSize, 'a record header overflows its block');
  // `into`, if given, is a zeroed block the caller owns (LogDisk packs a group's headers in one buffer).
  invariant(into === undefined || (into.length === layout.blockSize && into[0] === 0), 'a record header goes into a zeroed block');
  const h = into ?? new Uint8Array(layout.blockSize);
  const v = view(h);
  v.setUint32(0, RECORD_MAGIC);
  v.setUint32(4, addrs.length);
  v.setBigUint64(8, BigInt(seq));
  for (let i = 0; i < addrs.length; i++) v.setUint32(RECORD_HEADER_FIXED_BYTES + 4 * i, addrs[i]);
  v.setUint32(16, recordCrc(layout, pos, h, blocks));
  return h;
}

const ZERO_CRC_FIELD = new Uint8Array(4);
/** Scratch for the position bytes; used synchronously only. */
const PLACE = new Uint8Array(4);

/** The record checksum: log id, place in the log, header fields (crc read as zero), data blocks. */
export function recordCrc(layout: LogLayout, pos: number, header: Uint8Array, blocks: readonly Uint8Array[]): number {
  const count = ((header[4] << 24) | (header[5] << 16) | (header[6] << 8) | header[7]) >>> 0;
  const place = PLACE;
  const at = pos % layout.logBlocks;
  place[0] = at >>> 24;
  place[1] = (at >>> 16) & 0xff;
  place[2] = (at >>> 8) & 0xff;
  place[3] = at & 0xff;
  let c = zlib.crc32(place, layout.idCrc);
  c = zlib.crc32(header.subarray(0, 16), c);
  c = zlib.crc32(ZERO_CRC_FIELD, c);
  c = zlib.crc32(header.subarray(RECORD_HEADER_FIXED_BYTES, RECORD_HEADER_FIXED_BYTES + 4 * count), c);
  for (const b of blocks) c = zlib.crc32(b, c);
  return c >>> 0;
}

/** What a header block says, if it looks like one (magic and a count that can fit). */
export interface RecordHeader {
  seq: number;
  count: number;
  crc: number;
  addrs: number[];
}

export function decodeRecordHeader(h: Uint8Array, layout: LogLayout): RecordHeader | undefined {
  const v = view(h);
  if (v.getUint32(0) !== RECORD_MAGIC) return undefined;
  const count = v.getUint32(4);
  if (count < 1 || count > layout.maxTxBlocks) return undefined;
  const addrs: number[] = [];
  for (let i = 0; i < count; i++) addrs.push(v.getUint32(RECORD_HEADER_FIXED_BYTES + 4 * i));
  return { seq: Number(v.getBigUint64(8)), count, crc: v.getUint32(16), addrs };
}

/** Writes consecutive log blocks from absolute position `pos`, split in two calls at the wrap point. */
export async function writeLogBlocks(device: BlockDevice, layout: LogLayout, pos: number, blocks: readonly Uint8Array[]): Promise<void> {
  invariant(blocks.length <= layout.logBlocks, 'a log write longer than the log');
  const at = pos % layout.logBlocks;
  const first = Math.min(blocks.length, layout.logBlocks - at);
  await writeBlocks(device, layout.logStart + at, blocks.slice(0, first));
  if (first < blocks.length) await writeBlocks(device, layout.logStart, blocks.slice(first));
}

/** Reads `count` consecutive log blocks from absolute position `pos`, wrapping. */
export async function readLogBlocks(device: BlockDevice, layout: LogLayout, pos: number, count: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(await device.read(layout.logAddr(pos + i)));
  return out;
}

// ── format ─────────────────────────────────────────────────────────────────

export interface FormatLogOptions {
  /** Size of the circular log in blocks. Default: splitDevice() of the device's size. */
  logBlocks?: number;
}

/** The one sizing rule: a quarter of the data region, rounded up, 2 to 1024 blocks. */
export function logBlocksForData(dataBlocks: number): number {
  return Math.max(2, Math.min(1024, Math.ceil(dataBlocks / 4)));
}

/**
 * The log size of a device of `deviceBlocks` blocks under logBlocksForData(): the smallest
 * L with L >= logBlocksForData(deviceBlocks - 3 - L). For a device made for D data blocks
 * (3 + logBlocksForData(D) + D blocks) that is exactly logBlocksForData(D).
 */
export function defaultLogBlocks(deviceBlocks: number): number {
  for (let logBlocks = 2; ; logBlocks++) {
    const data = deviceBlocks - RESERVED_BLOCKS - logBlocks;
    if (data < 1) throw new InvalidArgumentError(`a device of ${deviceBlocks} blocks has no room for a log and data`);
    if (logBlocks >= logBlocksForData(data)) return logBlocks;
  }
}

/**
 * Writes an empty log over the whole device: zeroed log region, tail slot A at position 0
 * with seq 1, slot B empty, flush; then the superblock (with a new random log id), flush.
 * The superblock goes last so that a crash part way leaves block 0 empty and the device
 * still counts as fresh. Returns the layout. Overwrites blocks 0 .. 3+logBlocks-1 only.
 */
export async function formatLog(device: BlockDevice, options: FormatLogOptions = {}): Promise<LogLayout> {
  const logBlocks = options.logBlocks ?? defaultLogBlocks(device.numBlocks);
  if (!Number.isSafeInteger(logBlocks) || logBlocks < 2) throw new InvalidArgumentError(`logBlocks must be an integer of at least 2, got ${String(logBlocks)}`);
  const dataBlocks = device.numBlocks - RESERVED_BLOCKS - logBlocks;
  if (dataBlocks < 1) {
    throw new InvalidArgumentError(`a device of ${device.numBlocks} blocks has no room for a log of ${logBlocks} blocks and data`);
  }
  const layout = new LogLayout({ blockSize: device.blockSize, logBlocks, dataBlocks }, new Uint8Array(crypto.randomBytes(LOG_ID_BYTES)));
  const zero = new Uint8Array(layout.blockSize);
  // Zeroed so that the log a fresh device starts with reads as empty, whatever was there.
  for (let pos = 0; pos < logBlocks; pos += 256) {
    const n = Math.min(256, logBlocks - pos);
    await writeBlocks(device, layout.logStart + pos, Array.from({ length: n }, () => zero));
  }
  await writeTail(device, layout, FORMAT_TAIL);
  await device.write(2, zero);
  await device.flush();
  await device.write(0, encodeSuperblock({ blockSize: layout.blockSize, logBlocks, dataBlocks, id: layout.id }));
  await device.flush();
  return layout;
}

/** The tail formatLog() writes before the superblock (what an interrupted format leaves in block 1). */
export const FORMAT_TAIL: TailPointer = { pos: 0, seq: 1, slot: 0 };

/** True if block 1 holds what an interrupted formatLog() leaves there, or nothing. */
export function isFormatTailOrZero(b: Uint8Array): boolean {
  if (isZeroBlock(b)) return true;
  const t = decodeTail(b, 0);
  return t !== undefined && t.pos === FORMAT_TAIL.pos && t.seq === FORMAT_TAIL.seq;
}
