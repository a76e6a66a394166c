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
  readonly #mapKeys = new Map<string, number>();
  /**
   * A number that identifies a block map by its contents (equal contents, equal numbers).
   * Maps in snapshots and images are never mutated, so each map's is computed once.
   */
  idOfMap(m: ReadonlyMap<number, Uint8Array>): number {
    let id = this.#mapIds.get(m);
    if (id !== undefined) return id;
    let key = '';
    // Address order without sorting: the maps are dense over a small device.
    let found = 0;
    for (let a = 0; found < m.size; a++) {
      if (a > 4 * m.size + 64) {
        key = [...m.keys()].sort((x, y) => x - y).map((x) => `${x}:${this.id(m.get(x)!)}`).join(',');
        break;
      }
      const b = m.get(a);
      if (b === undefined) continue;
      found++;
      key += `${a}:${this.id(b)},`;
    }
    id = this.#mapKeys.get(key);
    if (id === undefined) this.#mapKeys.set(key, (id = this.#mapKeys.size));
    this.#mapIds.set(m, id);
    return id;
  }

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

function sampleHash(b: Uint8Array): number {
  let h = Math.imul(0x811c9dc5 ^ b.length, 0x01000193);
  const head = Math.min(64, b.length);
  for (let i = 0; i < head; i++) h = Math.imul(h ^ b[i], 0x01000193);
  for (let i = head; i < b.length; i += 32) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
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
