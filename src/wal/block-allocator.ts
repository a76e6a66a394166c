/**
 * Fresh blocks carved out of larger slabs: a bump allocator with no free list.
 *
 * Allocating a 4 KiB ArrayBuffer costs about a microsecond in V8 (a backing store, zeroing,
 * external-memory bookkeeping); a slice of a slab that is already there costs a small
 * object. Every block handed out is a region of a slab that was never handed out before,
 * so two blocks never alias, and nothing is ever returned: a slab is freed by the garbage
 * collector once no block of it is referenced.
 *
 * The price is retention: one live block keeps its whole slab (SLAB_BLOCKS blocks) alive.
 * In the store, blocks allocated together die together (a transaction's blocks go through
 * the overlay and the clean cache side by side), so steady-state memory stays close to the
 * live blocks; the worst case is SLAB_BLOCKS times them.
 */
export class BlockAllocator {
  readonly blockSize: number;
  #slab = new Uint8Array(0);
  #next = 0;

  constructor(blockSize: number) {
    this.blockSize = blockSize;
  }

  /** A zeroed block the caller owns. */
  alloc(): Uint8Array {
    if (this.#next === this.#slab.length) {
      this.#slab = new Uint8Array(SLAB_BLOCKS * this.blockSize);
      this.#next = 0;
    }
    const b = this.#slab.subarray(this.#next, this.#next + this.blockSize);
    this.#next += this.blockSize;
    return b;
  }

  /** A copy of `data` (one block) that the caller owns. */
  copy(data: Uint8Array): Uint8Array {
    const b = this.alloc();
    b.set(data);
    return b;
  }
}

/** Blocks per slab: 64 KiB at 4 KiB blocks. */
const SLAB_BLOCKS = 16;
