import type { BlockId, DiskObs } from './atomic-disk.ts';
import type { Spec } from './spec.ts';

/**
 * Operations on a transactional disk: a transaction reads some addresses, then writes
 * some; a plain read reads one block.
 */
export type TxOp = { t: 'tx'; reads: number[]; writes: [number, BlockId][] } | { t: 'read'; addr: number };
/** A transaction returns the ids it read (in `reads` order); a read returns one id. */
export type TxRes = BlockId[] | BlockId;

/**
 * The atomic transactional disk: a map from address to block; a transaction reads and
 * sets all its blocks at once. A transaction that returned from commit is durable,
 * whatever the device model below (commit flushes), so a crash keeps the state as it is;
 * a transaction cut short took effect wholly or not at all.
 */
export function transactionalDiskSpec(numBlocks: number): Spec<readonly BlockId[], TxOp, TxRes, DiskObs> {
  return {
    name: 'atomic-transactional-disk',
    init: () => new Array<BlockId>(numBlocks).fill(0),
    step(s, op, res) {
      if (op.t === 'read') return res === undefined || s[op.addr] === res ? s : undefined;
      if (res !== undefined) {
        const got = res as BlockId[];
        for (let i = 0; i < op.reads.length; i++) if (s[op.reads[i]] !== got[i]) return undefined;
      }
      if (op.writes.length === 0) return s;
      const next = s.slice();
      for (const [a, v] of op.writes) next[a] = v;
      return next;
    },
    crash: (s) => s,
    observe: (s, obs) => (obs.every((v, a) => v === null || v === s[a]) ? s : undefined),
    key: (s) => s.join(','),
    show: (s) => s.map((v, a) => `${a}:${v}`).join(' '),
  };
}
