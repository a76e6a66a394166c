import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { BadImageError, InvalidArgumentError, UnsupportedVersionError } from '../errors.ts';
import type { DiskLabel } from './disk-label.ts';
import { checkGeometry } from './validate.ts';

/**
 * The self-describing header at the start of a disk image file.
 *
 * It fills the first block-size bytes of the file so that blocks stay aligned; block `a`
 * lives at byte headerSize + a*blockSize. Every field sits in the first 512-byte sector, so
 * rewriting the label is a single sector write. Layout (little endian):
 *
 *   0  magic "TWINDISK" (8)      8  format version u32     12 header size u32
 *  16  block size u32           20  block count u64       28 store id (16)
 *  44  disk index u8            45  (reserved, 3)          48 epoch u64
 *  56  crc32 of bytes 0..55 u32
 */
export const MAGIC = Buffer.from('TWINDISK', 'latin1');
export const FORMAT_VERSION = 1;
const CRC_OFFSET = 56;
const FIELDS_SIZE = 60;

export interface ImageHeader {
  blockSize: number;
  numBlocks: number;
  headerSize: number;
  label: DiskLabel;
}

export function newStoreId(): string {
  return randomBytes(16).toString('hex');
}

export function headerSizeFor(blockSize: number): number {
  return Math.max(blockSize, 512);
}

export function encodeHeader(h: ImageHeader): Buffer {
  const buf = Buffer.alloc(h.headerSize);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(FORMAT_VERSION, 8);
  buf.writeUInt32LE(h.headerSize, 12);
  buf.writeUInt32LE(h.blockSize, 16);
  buf.writeBigUInt64LE(BigInt(h.numBlocks), 20);
  checkLabel(h.label);
  Buffer.from(h.label.storeId, 'hex').copy(buf, 28);
  buf.writeUInt8(h.label.index, 44);
  buf.writeBigUInt64LE(BigInt(h.label.epoch), 48);
  buf.writeUInt32LE(crc32(buf.subarray(0, CRC_OFFSET)), CRC_OFFSET);
  return buf;
}

/**
 * Parses the first bytes of a file. `fileSize` is checked against the geometry so that a
 * truncated or resized image is refused rather than read past its end.
 */
export function decodeHeader(buf: Buffer, fileSize: number, path: string): ImageHeader {
  if (buf.length < FIELDS_SIZE || fileSize < FIELDS_SIZE) {
    throw new BadImageError(`${path}: too short to be a twindisk image (${fileSize} bytes)`);
  }
  if (!buf.subarray(0, 8).equals(MAGIC)) throw new BadImageError(`${path}: not a twindisk image (bad magic)`);
  const version = buf.readUInt32LE(8);
  if (version !== FORMAT_VERSION) {
    throw new UnsupportedVersionError(`${path}: image format version ${version}; this code reads version ${FORMAT_VERSION}`);
  }
  if (buf.readUInt32LE(CRC_OFFSET) !== crc32(buf.subarray(0, CRC_OFFSET))) {
    throw new BadImageError(`${path}: the image header is corrupt (checksum mismatch)`);
  }
  const headerSize = buf.readUInt32LE(12);
  const blockSize = buf.readUInt32LE(16);
  const numBlocks = Number(buf.readBigUInt64LE(20));
  const index = buf.readUInt8(44);
  const epoch = Number(buf.readBigUInt64LE(48));
  if (index !== 0 && index !== 1) throw new BadImageError(`${path}: disk index ${index} is not 0 or 1`);
  if (headerSize !== headerSizeFor(blockSize)) throw new BadImageError(`${path}: header size ${headerSize} does not fit block size ${blockSize}`);
  const expected = headerSize + numBlocks * blockSize;
  if (fileSize !== expected) {
    throw new BadImageError(
      `${path}: the file is ${fileSize} bytes but its header says ${numBlocks} blocks of ${blockSize} (${expected} bytes): truncated or resized`,
    );
  }
  try {
    checkGeometry(numBlocks, blockSize);
  } catch {
    throw new BadImageError(`${path}: the header holds an impossible geometry (${numBlocks} blocks of ${blockSize} bytes)`);
  }
  if (!Number.isSafeInteger(epoch)) throw new BadImageError(`${path}: the header holds an impossible epoch`);
  const storeId = buf.subarray(28, 44).toString('hex');
  return { blockSize, numBlocks, headerSize, label: { storeId, index, epoch } };
}

/** Refuses a label that could not be written and read back as it is. */
export function checkLabel(label: DiskLabel): void {
  const { storeId, index, epoch } = label ?? ({} as DiskLabel);
  if (typeof storeId !== 'string' || !/^[0-9a-f]{32}$/.test(storeId)) {
    throw new InvalidArgumentError(`a store id is 32 lower-case hex digits, got ${JSON.stringify(storeId)}`);
  }
  if (index !== 0 && index !== 1) throw new InvalidArgumentError(`a disk index is 0 or 1, got ${String(index)}`);
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new InvalidArgumentError(`an epoch is a whole number ≥ 0, got ${String(epoch)}`);
}
