import type { Entry } from './history.ts';
import type { Spec } from './spec.ts';

/**
 * Block values in specs are small integers: the harness writes recognisable blocks
 * (see values.ts) and maps what it reads back to their ids. 0 is the zero block;
 * a negative id is a block that no client ever wrote (e.g. a torn mix).
 */
export type BlockId = number;

export type DiskOp = { t: 'write'; addr: number; val: BlockId } | { t: 'read'; addr: number } | { t: 'flush' };
/** A read returns the block id; writes and flushes return null. */
export type DiskRes = BlockId | null;
/** The whole disk read back: one id per address (null: not constrained, in a partitioned history). */
export type DiskObs = (BlockId | null)[];

/** Current value unknown after a crash until it is read (buffered disk). */
const UNKNOWN = -0x7fffffff;

export interface DiskState {
  /** What a read returns now. */
  readonly cur: readonly BlockId[];
  /** Per address, the values a crash may leave (buffered): durable plus written since the last flush. */
  readonly maybe: readonly (readonly BlockId[])[];
}

/**
 * The atomic disk: a map from address to block; read returns it, write sets it.
 *
 * synchronous: each write is durable when it takes effect; a crash keeps every value.
 * buffered: each address remembers the values written since the last completed flush;
 * a crash leaves each address holding any one of them, independently per address, and
 * a flush makes everything before it durable (the honest model of a cached drive).
 */
export function atomicDiskSpec(numBlocks: number, buffered: boolean): Spec<DiskState, DiskOp, DiskRes, DiskObs> {
  const zeros = new Array<BlockId>(numBlocks).fill(0);
  const fixAt = (s: DiskState, addr: number, v: BlockId): DiskState => {
    const cur = s.cur.slice();
    cur[addr] = v;
    return { cur, maybe: s.maybe };
  };
  return {
    name: buffered ? 'atomic-disk/buffered' : 'atomic-disk/sync',
    init: () => ({ cur: zeros, maybe: zeros.map((z) => [z]) }),
    step(s, op, res) {
      switch (op.t) {
        case 'write': {
          const cur = s.cur.slice();
          cur[op.addr] = op.val;
          const maybe = s.maybe.slice();
          if (buffered) {
            if (!maybe[op.addr].includes(op.val)) maybe[op.addr] = [...maybe[op.addr], op.val].sort((a, b) => a - b);
          } else maybe[op.addr] = [op.val];
          return { cur, maybe };
        }
        case 'read': {
          if (res === undefined) return s;
          const c = s.cur[op.addr];
          if (c === UNKNOWN) return s.maybe[op.addr].includes(res as BlockId) ? fixAt(s, op.addr, res as BlockId) : undefined;
          return c === res ? s : undefined;
        }
        case 'flush': {
          if (s.cur.includes(UNKNOWN)) return s;
          return { cur: s.cur, maybe: s.cur.map((v) => [v]) };
        }
      }
    },
    crash(s) {
      if (!buffered) return s;
      return { cur: s.cur.map((v, a) => (s.maybe[a].length === 1 ? s.maybe[a][0] : UNKNOWN)), maybe: s.maybe };
    },
    observe(s, obs) {
      const cur = s.cur.slice();
      const maybe = s.maybe.slice();
      for (let a = 0; a < numBlocks; a++) {
        const o = obs[a];
        if (o === null) continue;
        const c = s.cur[a];
        if (c === UNKNOWN ? !s.maybe[a].includes(o) : c !== o) return undefined;
        // What was read back after a crash is what the disk now holds durably.
        cur[a] = o;
        if (c === UNKNOWN) maybe[a] = [o];
      }
      return { cur, maybe };
    },
    key: (s) => (buffered ? `${s.cur.join(',')}/${s.maybe.map((m) => m.join('.')).join(',')}` : s.cur.join(',')),
    show: (s) =>
      s.cur.map((v, a) => `${a}:${v === UNKNOWN ? '?' : v}${buffered && s.maybe[a].length > 1 ? `{${s.maybe[a].join('|')}}` : ''}`).join(' '),
    partition: (entries) => partitionByAddress(entries, numBlocks),
  };
}

/**
 * Splits a disk history by address. Flushes and crashes go to every part; each
 * observation is cut down to the part's address.
 *
 * A relaxation, stated honestly: each part may place a flush at its own instant, where
 * the whole history needs one instant for all addresses. It is used only above a size
 * threshold (see checkHistory's partitionAbove); small histories are checked whole.
 */
export function partitionByAddress<R>(entries: Entry<DiskOp, R, DiskObs>[], numBlocks: number): Entry<DiskOp, R, DiskObs>[][] {
  const parts: Entry<DiskOp, R, DiskObs>[][] = [];
  for (let a = 0; a < numBlocks; a++) {
    const part = entries.filter((e) => e.kind !== 'op' || e.op!.t === 'flush' || (e.op as { addr: number }).addr === a);
    parts.push(part.map((e) => (e.kind === 'observe' ? { ...e, obs: e.obs!.map((v, i) => (i === a ? v : null)) } : e)));
  }
  return parts;
}
