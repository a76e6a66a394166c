/**
 * On-disk layout of the mail store, inside the data blocks of a TransactionalDisk.
 * Every change below is made inside transactions, so the layout needs no journal of its
 * own: a delivery or a delete is one transaction and is wholly there or absent after a crash.
 *
 *   block 0                      superblock: magic 'TDML', version, geometry (below)
 *   1 .. dirBlocks               user directory: 64-byte entries, entry i = user slot i
 *                                (byte 0 = name length, 0 = free; then the name in ASCII)
 *   indexStart ..                per-user index: K = indexBlocksPerUser blocks per slot,
 *                                slot s owns indexStart + s*K .. + K-1
 *   bitmapStart ..               allocation bitmap: one block per partition; bit i of
 *                                partition p is data block dataStart + p*partitionBlocks + i
 *   dataStart .. numBlocks-1     message blocks
 *
 * Index block (all-zero = empty, never used):
 *   0 magic 'TDMI' u32 | 4 nextSeq u32 | 8 count u32 | 12 reserved
 *   16 + 16*j: entry j = seq u32 | head u32 | length u32 | flags u32 (1 = in use)
 *   A message id is seq*K + k where k is the index block's number within the user, so ids
 *   are fresh per mailbox forever (nextSeq only grows) without a shared counter block.
 *
 * Message head block (then nExtra extra blocks holding the rest, in order):
 *   0 magic 'TDMM' u32 | 4 length u32 | 8 nExtra u32 | 12 user slot u32 | 16 seq u32
 *   20 + 4*i: address of extra block i | then the first bytes of the message, inline
 *
 * Why per-user index blocks spread over K blocks and a partitioned bitmap: two deliveries
 * conflict (and one retries) only if they touch the same block, so concurrent deliveries,
 * even to one user, land on different index blocks and different bitmap partitions.
 *
 * The commit point of a delivery is its single transaction (blocks, bitmap and index
 * entry together); of a format, the transaction that writes the superblock, which comes
 * after every metadata block has been zeroed.
 */
import { InvalidArgumentError, invariant } from '../errors.ts';

export const SUPER_MAGIC = 0x4c4d4454; // 'TDML' little-endian
export const INDEX_MAGIC = 0x494d4454; // 'TDMI'
export const HEAD_MAGIC = 0x4d4d4454; // 'TDMM'
export const FORMAT_VERSION = 1;
export const DIR_ENTRY_BYTES = 64;
export const MAX_USER_NAME_BYTES = 32;
export const INDEX_HEADER_BYTES = 16;
export const INDEX_ENTRY_BYTES = 16;
export const HEAD_HEADER_BYTES = 20;

export interface MailGeometry {
  blockSize: number;
  numBlocks: number;
  maxUsers: number;
  indexBlocksPerUser: number;
  partitions: number;
  maxMessageBytes: number;
  dirBlocks: number;
  indexStart: number;
  bitmapStart: number;
  dataStart: number;
  partitionBlocks: number;
}

export interface MailFormatOptions {
  /** Number of mailboxes the store can hold (user slots). Default 64. */
  maxUsers?: number;
  /** Index blocks per mailbox: more means fewer conflicts between deliveries to one user. Default 4. */
  indexBlocksPerUser?: number;
  /** Allocation partitions (one bitmap block each): more means fewer conflicts between deliveries. Default 32. */
  partitions?: number;
  /** Largest message accepted, in bytes. Default 1 MiB, capped by what one head block can address. */
  maxMessageBytes?: number;
}

/** Largest message a head block of this block size can address. */
export function maxMessageCapacity(blockSize: number): number {
  const maxExtra = Math.floor((blockSize - HEAD_HEADER_BYTES) / 4);
  return blockSize - HEAD_HEADER_BYTES - 4 * maxExtra + maxExtra * blockSize;
}

/** Number of extra blocks (besides the head) that a message of `length` bytes needs. */
export function extraBlocksFor(length: number, blockSize: number): number {
  const inline = blockSize - HEAD_HEADER_BYTES;
  if (length <= inline) return 0;
  return Math.ceil((length - inline) / (blockSize - 4));
}

export function entriesPerIndexBlock(blockSize: number): number {
  return Math.floor((blockSize - INDEX_HEADER_BYTES) / INDEX_ENTRY_BYTES);
}

/**
 * Largest message whose delivery fits in one transaction of at most maxTxBlocks blocks:
 * n message blocks, one index block, and at most one bitmap block per block (a message
 * spread over that many partitions).
 */
export function maxMessageForTransaction(blockSize: number, maxTxBlocks: number): number {
  const n = Math.floor((maxTxBlocks - 1) / 2);
  if (n < 1) return 0;
  return Math.min(maxMessageCapacity(blockSize), blockSize - HEAD_HEADER_BYTES - 4 * (n - 1) + (n - 1) * blockSize);
}

/** The layout for a disk; `maxTxBlocks`, when the disk tells it, caps the message size. */
export function computeGeometry(blockSize: number, numBlocks: number, o: MailFormatOptions = {}, maxTxBlocks?: number): MailGeometry {
  const maxUsers = o.maxUsers ?? 64;
  const K = o.indexBlocksPerUser ?? 4;
  const txCap = maxTxBlocks === undefined ? Infinity : maxMessageForTransaction(blockSize, maxTxBlocks);
  const maxMessageBytes = o.maxMessageBytes ?? Math.min(1 << 20, maxMessageCapacity(blockSize), txCap);
  if (maxMessageBytes > txCap) {
    throw new InvalidArgumentError(`maxMessageBytes ${maxMessageBytes} would need transactions larger than the store's ${maxTxBlocks} blocks (at most ${txCap} bytes)`);
  }
  for (const [name, v] of Object.entries({ maxUsers, indexBlocksPerUser: K, maxMessageBytes })) {
    if (!Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${v}`);
  }
  if (K > 256) throw new InvalidArgumentError(`indexBlocksPerUser must be at most 256, got ${K}`);
  if (maxMessageBytes > maxMessageCapacity(blockSize) || maxMessageBytes > 0xffffffff) {
    throw new InvalidArgumentError(`maxMessageBytes ${maxMessageBytes} exceeds what a ${blockSize}-byte head block can address (${maxMessageCapacity(blockSize)})`);
  }
  const dirBlocks = Math.ceil((maxUsers * DIR_ENTRY_BYTES) / blockSize);
  const indexStart = 1 + dirBlocks;
  const bitmapStart = indexStart + maxUsers * K;
  const rest = numBlocks - bitmapStart;
  const bitsPerBlock = blockSize * 8;
  let partitions = Math.max(o.partitions ?? 32, Math.ceil(rest / (bitsPerBlock + 1)));
  // Small stores: at least two data blocks per partition, so a partition is worth its bitmap block.
  partitions = Math.min(partitions, Math.floor(rest / 3));
  if (!Number.isSafeInteger(partitions) || partitions < 1) {
    throw new InvalidArgumentError(`${numBlocks} blocks leave no room for messages after ${bitmapStart} metadata blocks; use more blocks or fewer users`);
  }
  const dataStart = bitmapStart + partitions;
  const partitionBlocks = Math.ceil((numBlocks - dataStart) / partitions);
  invariant(partitionBlocks <= bitsPerBlock && partitionBlocks >= 1, 'a partition must fit in one bitmap block');
  return { blockSize, numBlocks, maxUsers, indexBlocksPerUser: K, partitions, maxMessageBytes, dirBlocks, indexStart, bitmapStart, dataStart, partitionBlocks };
}

const SUPER_FIELDS = ['blockSize', 'numBlocks', 'maxUsers', 'indexBlocksPerUser', 'partitions', 'maxMessageBytes', 'dirBlocks', 'indexStart', 'bitmapStart', 'dataStart', 'partitionBlocks'] as const;

export function encodeSuperblock(g: MailGeometry): Uint8Array {
  const b = new Uint8Array(g.blockSize);
  const v = view(b);
  v.setUint32(0, SUPER_MAGIC, true);
  v.setUint32(4, FORMAT_VERSION, true);
  SUPER_FIELDS.forEach((f, i) => v.setUint32(8 + 4 * i, g[f], true));
  return b;
}

/** Decodes a superblock; undefined when the block holds no mail superblock at all. */
export function decodeSuperblock(b: Uint8Array): { version: number; geometry: MailGeometry } | undefined {
  const v = view(b);
  if (v.getUint32(0, true) !== SUPER_MAGIC) return undefined;
  const g = {} as Record<(typeof SUPER_FIELDS)[number], number>;
  SUPER_FIELDS.forEach((f, i) => (g[f] = v.getUint32(8 + 4 * i, true)));
  return { version: v.getUint32(4, true), geometry: g };
}

/**
 * The name in entry e of a directory block; undefined when the entry is free. Decoded as
 * latin1, byte for byte, so a damaged name stays visibly invalid (checkUserName, mailFsck)
 * instead of turning into another, valid name.
 */
export function decodeDirEntry(blk: Uint8Array, e: number): string | undefined {
  const off = e * DIR_ENTRY_BYTES;
  const len = blk[off];
  if (len === 0) return undefined;
  return Buffer.from(blk.subarray(off + 1, off + 1 + len)).toString('latin1');
}

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** The block of partition p's bitmap, and the data block range it covers. */
export function partitionRange(g: MailGeometry, p: number): { first: number; count: number } {
  const first = g.dataStart + p * g.partitionBlocks;
  return { first, count: Math.max(0, Math.min(g.partitionBlocks, g.numBlocks - first)) };
}

export function partitionOf(g: MailGeometry, addr: number): number {
  return Math.floor((addr - g.dataStart) / g.partitionBlocks);
}

export function indexBlockAddr(g: MailGeometry, slot: number, k: number): number {
  return g.indexStart + slot * g.indexBlocksPerUser + k;
}
