import type { BlockId } from './spec/atomic-disk.ts';

/**
 * Recognisable blocks: block `id` carries the id in its first 4 bytes and a fill derived
 * from it everywhere else, so a read maps back to the id with one memcmp, and a torn mix
 * or a stray block maps to no id (a negative number) instead of passing for a good one.
 */
const cache = new Map<string, Buffer>();

export function blockFor(id: BlockId, blockSize: number): Uint8Array {
  const k = `${id}/${blockSize}`;
  let b = cache.get(k);
  if (!b) {
    b = Buffer.alloc(blockSize);
    if (id !== 0) {
      b.fill((id * 37 + 11) & 0xff);
      b.writeUInt32LE(id, 0);
    }
    cache.set(k, b);
  }
  return new Uint8Array(b);
}

/** The id of a block read back, or a negative number for a block no client wrote. */
export function idOf(block: Uint8Array): BlockId {
  const buf = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const id = buf.readUInt32LE(0);
  const want = id === 0 ? zeroBlock(block.length) : (blockFor(id, block.length), cache.get(`${id}/${block.length}`)!);
  if (id < 0x40000000 && buf.equals(want)) return id;
  // A stable negative tag for an unknown block: a checksum of its bytes.
  let h = 0x811c9dc5;
  for (let i = 0; i < buf.length; i += 64) h = Math.imul(h ^ buf[i], 0x01000193);
  return -(1 + ((h >>> 0) % 0x3fffffff));
}

function zeroBlock(size: number): Buffer {
  const k = `0/${size}`;
  let b = cache.get(k);
  if (!b) cache.set(k, (b = Buffer.alloc(size)));
  return b;
}
