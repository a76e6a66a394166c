import { BlockMap } from './block-map.ts';

/**
 * Content-addressed block storage for the simulated devices of one exploration.
 *
 * Every block a simulated device stores goes through intern(): equal contents give the
 * same (frozen by convention, never mutated) Uint8Array and the same small integer id.
 * That does three things for the explorer: a disk image is identified by the ids of its
 * blocks, with no hashing of whole images; a resync or log install that rewrites a block
 * the disks already hold stores nothing new; and the thousands of cached snapshots share
 * their blocks instead of holding copies.
 *
 * Bucketing uses a cheap sampled hash (the first 64 bytes and one byte in every 32);
 * equality within a bucket is a full byte comparison, so two different blocks can never
 * share an id, whatever the hash does.
 */
export class BlockStore {
  readonly #buckets = new Map<number, Uint8Array[]>();
  readonly #ids = new Map<Uint8Array, number>();

  /** The stored block with these contents (a copy of `data` if none was stored yet). */
  intern(data: Uint8Array): Uint8Array {
    if (this.#ids.has(data)) return data;
    const h = sampleHash(data);
    let bucket = this.#buckets.get(h);
    if (bucket === undefined) this.#buckets.set(h, (bucket = []));
    for (const b of bucket) if (sameBytes(b, data)) return b;
    const copy = new Uint8Array(data);
    bucket.push(copy);
    this.#ids.set(copy, this.#ids.size + 1);
    return copy;
  }

  /** The id of a block's contents (1, 2, …; equal contents, equal ids). */
  id(block: Uint8Array): number {
    return this.#ids.get(block) ?? this.#ids.get(this.intern(block))!;
  }

  readonly #mapIds = new WeakMap<ReadonlyMap<number, Uint8Array>, number>();
  readonly #mapIdArrays = new WeakMap<ReadonlyMap<number, Uint8Array>, Int32Array | null>();
  /**
   * A number that identifies a block map by its contents (equal contents, equal numbers).
   * Maps in snapshots and images are never mutated, so each map's is computed once.
   */
  idOfMap(m: ReadonlyMap<number, Uint8Array>): number {
    let id = this.#mapIds.get(m);
    if (id !== undefined) return id;
    const dense = this.idsOfMap(m);
    if (dense) id = this.idOfIds(dense);
    else {
      // Too sparse for a per-address array: sorted (address, block id) pairs.
      const addrs = [...m.keys()].sort((x, y) => x - y);
      const pairs = new Int32Array(1 + 2 * addrs.length);
      pairs[0] = SPARSE;
      addrs.forEach((a, i) => {
        pairs[1 + 2 * i] = a;
        pairs[2 + 2 * i] = this.id(m.get(a)!);
      });
      id = this.#contents.id(pairs);
    }
    this.#mapIds.set(m, id);
    return id;
  }

  /**
   * A map's contents as block ids per address (0: no block there), or null for a map too
   * sparse for that. Computed once per map; the caller may copy it, never modify it.
   */
  idsOfMap(m: ReadonlyMap<number, Uint8Array>): Int32Array | null {
    let ids = this.#mapIdArrays.get(m);
    if (ids !== undefined) return ids;
    let max = -1;
    if (m instanceof BlockMap) max = m.maxAddr;
    else for (const a of m.keys()) if (a > max) max = a;
    if (isSparse(max, m.size)) ids = null;
    else {
      const out = (ids = new Int32Array(max + 1));
      m.forEach((b, a) => (out[a] = this.id(b)));
    }
    this.#mapIdArrays.set(m, ids);
    return ids;
  }

  /**
   * The number idOfMap gives a map whose block ids per address are `ids` (0: no block),
   * without building the map: equal contents, equal numbers, whatever the array's length.
   */
  idOfIds(ids: Int32Array): number {
    let len = ids.length;
    while (len > 0 && ids[len - 1] === 0) len--;
    let count = 0;
    for (let a = 0; a < len; a++) if (ids[a] !== 0) count++;
    if (!isSparse(len - 1, count)) return this.#contents.id(len === ids.length ? ids : ids.subarray(0, len));
    const pairs = new Int32Array(1 + 2 * count);
    pairs[0] = SPARSE;
    for (let a = 0, i = 1; a < len; a++) {
      if (ids[a] === 0) continue;
      pairs[i++] = a;
      pairs[i++] = ids[a];
    }
    return this.#contents.id(pairs);
  }

  /** Canonical content arrays (dense ids, or SPARSE-tagged pairs), interned exactly. */
  readonly #contents = new TupleIds();

  readonly #mixes = new Map<string, Uint8Array>();
  /**
   * The stored block for a mix of two blocks named `how` (a torn write's sector mask),
   * built by `build` the first time: the same tear of the same two blocks recurs at many
   * crash points and is built and stored once.
   */
  mix(a: Uint8Array, b: Uint8Array, how: string, build: () => Uint8Array): Uint8Array {
    const key = `${this.id(a)}|${this.id(b)}|${how}`;
    let m = this.#mixes.get(key);
    if (m === undefined) this.#mixes.set(key, (m = this.intern(build())));
    return m;
  }

  /** Distinct block contents stored so far. */
  get size(): number {
    return this.#ids.size;
  }
}

/** First element of a sparse content array (dense arrays hold block ids, which are >= 0). */
const SPARSE = -1;

/** Maps with blocks far apart are keyed by (address, id) pairs instead of a per-address array. */
function isSparse(maxAddr: number, count: number): boolean {
  return maxAddr > 4 * count + 64;
}

function sameInts(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sampleHash(b: Uint8Array): number {
  let h = Math.imul(0x811c9dc5 ^ b.length, 0x01000193);
  const head = Math.min(64, b.length);
  for (let i = 0; i < head; i++) h = Math.imul(h ^ b[i], 0x01000193);
  for (let i = head; i < b.length; i += 32) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

const bytesEqual = Buffer.prototype.equals as (this: Uint8Array, other: Uint8Array) => boolean;

/** Byte equality of any two Uint8Arrays, without wrapping them in Buffers. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && bytesEqual.call(a, b);
}

/**
 * Fresh buffers for what device reads return, carved from shared slabs: a read must hand
 * the layer a buffer it owns (it may modify it), and one allocation per 4 KiB read was a
 * large share of the harness's time. Each buffer is a distinct region that is never
 * handed out twice, so owning it is safe; a slab lives while any of its buffers does.
 */
const SLAB_BYTES = 128 * 1024;
let slab = new ArrayBuffer(0);
let slabUsed = 0;

export function freshBlock(contents: Uint8Array | undefined, size: number): Uint8Array {
  if (size > SLAB_BYTES / 4) {
    const own = new Uint8Array(size);
    if (contents) own.set(contents);
    return own;
  }
  if (slabUsed + size > slab.byteLength) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, size);
  slabUsed += size;
  if (contents) out.set(contents);
  return out;
}

/**
 * Interns short integer tuples (the explorer's crash-image keys: per device, failure, label
 * and block-map ids) to small numbers, exactly: hash, then element-wise comparison within a
 * bucket. Cheaper than building and hashing a string per crash state.
 */
export class TupleIds {
  readonly #buckets = new Map<number, number[]>();
  readonly #tuples: Int32Array[] = [];

  id(t: Int32Array): number {
    let h = Math.imul(0x811c9dc5 ^ t.length, 0x01000193);
    for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t[i], 0x01000193);
    let bucket = this.#buckets.get(h);
    if (bucket === undefined) this.#buckets.set(h, (bucket = []));
    for (const id of bucket) if (sameInts(this.#tuples[id], t)) return id;
    const id = this.#tuples.length;
    this.#tuples.push(t.slice());
    bucket.push(id);
    return id;
  }

  get size(): number {
    return this.#tuples.length;
  }
}
