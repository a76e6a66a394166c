/**
 * A simulated device's blocks by address: what its snapshots and crash images hold.
 *
 * The explorer snapshots every device at every write point of every recovery it records,
 * and each write after a snapshot copies the map it shares with that snapshot (copy on
 * write). A Map copy rehashes every entry; here, while the addresses in use are dense
 * (the small devices of the shipped workloads), the blocks sit in an array indexed by
 * address and a copy is one slice of pointers. A map whose addresses are far apart (few
 * blocks on a large device) keeps them in a Map instead, so a copy never costs more than
 * its entries. Iteration is in ascending address order while dense, in insertion order
 * otherwise; nothing that reads a block map depends on the order.
 */
export class BlockMap implements ReadonlyMap<number, Uint8Array> {
  #dense: (Uint8Array | undefined)[];
  #sparse: Map<number, Uint8Array> | undefined;
  #size: number;

  private constructor(dense: (Uint8Array | undefined)[], sparse: Map<number, Uint8Array> | undefined, size: number) {
    this.#dense = dense;
    this.#sparse = sparse;
    this.#size = size;
  }

  static empty(): BlockMap {
    return new BlockMap([], undefined, 0);
  }

  /** `m` itself if it is a BlockMap (maps are shared, never changed once shared), else a BlockMap with its entries. */
  static of(m: ReadonlyMap<number, Uint8Array> | undefined): BlockMap {
    if (m instanceof BlockMap) return m;
    const out = BlockMap.empty();
    m?.forEach((block, addr) => out.set(addr, block));
    return out;
  }

  /** A copy with the same entries (the copy may then be set; this one is left as it is). */
  copy(): BlockMap {
    return new BlockMap(this.#sparse ? [] : this.#dense.slice(), this.#sparse && new Map(this.#sparse), this.#size);
  }

  /** For the map's owner only, before anything else shares it. */
  set(addr: number, block: Uint8Array): this {
    if (this.#sparse) {
      if (!this.#sparse.has(addr)) this.#size++;
      this.#sparse.set(addr, block);
      return this;
    }
    const d = this.#dense;
    if (addr < d.length) {
      if (d[addr] === undefined) this.#size++;
      d[addr] = block;
      return this;
    }
    if (addr > 4 * (this.#size + 1) + 64) {
      // Too far apart for an array indexed by address.
      const sparse = new Map<number, Uint8Array>();
      for (let a = 0; a < d.length; a++) if (d[a] !== undefined) sparse.set(a, d[a]!);
      this.#sparse = sparse;
      this.#dense = [];
      return this.set(addr, block);
    }
    while (d.length < addr) d.push(undefined);
    d.push(block);
    this.#size++;
    return this;
  }

  get size(): number {
    return this.#size;
  }

  get(addr: number): Uint8Array | undefined {
    return this.#sparse ? this.#sparse.get(addr) : this.#dense[addr];
  }

  has(addr: number): boolean {
    return this.get(addr) !== undefined;
  }

  /** The highest address that holds a block, or -1. */
  get maxAddr(): number {
    if (!this.#sparse) {
      let a = this.#dense.length - 1;
      while (a >= 0 && this.#dense[a] === undefined) a--;
      return a;
    }
    let max = -1;
    for (const a of this.#sparse.keys()) if (a > max) max = a;
    return max;
  }

  forEach(fn: (block: Uint8Array, addr: number, map: ReadonlyMap<number, Uint8Array>) => void, thisArg?: unknown): void {
    if (this.#sparse) {
      this.#sparse.forEach((b, a) => fn.call(thisArg, b, a, this));
      return;
    }
    const d = this.#dense;
    for (let a = 0; a < d.length; a++) if (d[a] !== undefined) fn.call(thisArg, d[a]!, a, this);
  }

  *entries(): MapIterator<[number, Uint8Array]> {
    if (this.#sparse) {
      yield* this.#sparse.entries();
      return;
    }
    const d = this.#dense;
    for (let a = 0; a < d.length; a++) if (d[a] !== undefined) yield [a, d[a]!];
  }

  *keys(): MapIterator<number> {
    for (const [a] of this.entries()) yield a;
  }

  *values(): MapIterator<Uint8Array> {
    for (const [, b] of this.entries()) yield b;
  }

  [Symbol.iterator](): MapIterator<[number, Uint8Array]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'BlockMap';
  }
}
