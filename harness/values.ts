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

/**
 * A string that identifies a plain value by its contents: equal strings only for values
 * a spec cannot tell apart. JSON for what JSON keeps exactly (strings, finite numbers,
 * booleans, null, arrays, plain objects); tagged forms for what JSON would merge or lose
 * (undefined, NaN, ±Infinity, -0, bigint, byte arrays, Maps, Sets, class instances), so
 * read-backs can key caches without two different observations sharing a key.
 */
export function valueKey(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v.length < LONG_STRING ? JSON.stringify(v) : longStringKey(v);
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0) ? String(v) : `#n${Object.is(v, -0) ? '-0' : String(v)}`;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return '#u';
    case 'bigint':
      return `#b${v}`;
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + valueKey(v[i]);
        return `${s}]`;
      }
      if (ArrayBuffer.isView(v)) return `#${v.constructor.name}(${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')})`;
      if (v instanceof Map) return `#Map(${valueKey([...v])})`;
      if (v instanceof Set) return `#Set(${valueKey([...v])})`;
      const proto = Object.getPrototypeOf(v);
      let s = proto === Object.prototype || proto === null ? '{' : `#${(v as object).constructor?.name ?? '?'}{`;
      let first = true;
      for (const k of Object.keys(v)) {
        s += `${first ? '' : ','}${JSON.stringify(k)}:${valueKey((v as Record<string, unknown>)[k])}`;
        first = false;
      }
      return `${s}}`;
    }
    default:
      // Functions and symbols have no contents to compare: never equal to anything else.
      return `#x${uniqueTag++}`;
  }
}
let uniqueTag = 0;

/**
 * Long strings (mail messages read back after every recovery) are keyed by a number per
 * distinct string instead of their JSON, which for binary contents is several times their
 * length and is hashed again by every cache it keys. Equal strings get the same number for
 * the life of the process (the table only grows); past its bound, new strings are keyed by
 * their JSON as short ones are (a string never changes form: one in the table stays there).
 */
const LONG_STRING = 128;
const MAX_LONG_STRINGS = 100_000;
const longStrings = new Map<string, number>();

function longStringKey(v: string): string {
  let id = longStrings.get(v);
  if (id === undefined) {
    if (longStrings.size >= MAX_LONG_STRINGS) return JSON.stringify(v);
    longStrings.set(v, (id = longStrings.size));
  }
  return `#s${id}`;
}
