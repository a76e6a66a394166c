/**
 * The shape of the work every contender does, so that they all write the same blocks:
 * client c owns a stripe of addresses of its own (no two clients contend for one
 * address, so what is measured is commit and flush, not lock waits) and walks it with a
 * stride that visits every address of the stripe.
 */
export const BLOCK_SIZE = 4096;

/**
 * Blocks each workload addresses: 16 MiB, or 4 MiB under --dry (set by the CLI in the
 * environment, so that worker processes see it too). Large enough that 64 clients of
 * 8-block transactions each own a stripe of their own.
 */
export function workloadBlocks(): number {
  return process.env.TWINDISK_BENCH_DRY === '1' ? 1024 : 4096;
}

export interface Stripes {
  /** Addresses each client owns. */
  perClient: number;
  /** Total addresses the workload touches (clients × perClient). */
  total: number;
}

export function stripes(clients: number, addressSpace: number): Stripes {
  const perClient = Math.max(1, Math.floor(addressSpace / Math.max(1, clients)));
  return { perClient, total: perClient * clients };
}

/**
 * The k addresses of a client's seq-th transaction: consecutive within the stripe
 * (wrapping), starting at a point that moves by a prime stride so that successive
 * transactions land on different blocks.
 */
export function txAddresses(s: Stripes, client: number, seq: number, k: number): number[] {
  const base = client * s.perClient;
  const start = (seq * 7919 * k) % s.perClient;
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(base + ((start + i) % s.perClient));
  return out;
}

/** A block whose bytes differ per (client, seq, i), so nothing can be deduplicated. */
export function payload(client: number, seq: number, i: number, blockSize = BLOCK_SIZE): Buffer {
  const b = Buffer.alloc(blockSize);
  const v = new DataView(b.buffer);
  v.setUint32(0, client);
  v.setUint32(4, seq);
  v.setUint32(8, i);
  b.fill((client * 31 + seq * 7 + i) & 0xff, 12);
  return b;
}
