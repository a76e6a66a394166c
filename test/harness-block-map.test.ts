import { describe, expect, it } from 'vitest';
import { BlockMap } from '../harness/sim/block-map.ts';
import { BlockStore } from '../harness/sim/block-store.ts';

const block = (v: number) => new Uint8Array(512).fill(v);

describe('BlockMap (the simulated devices block maps)', () => {
  it('reads like a Map of the same entries, dense or far apart', () => {
    for (const addrs of [[0, 3, 1], [2, 10_000, 7]]) {
      const m = BlockMap.empty();
      const ref = new Map<number, Uint8Array>();
      addrs.forEach((a, i) => {
        m.set(a, block(i + 1));
        ref.set(a, block(i + 1));
      });
      m.set(addrs[0], block(9));
      ref.set(addrs[0], block(9));
      expect(m.size).toBe(3);
      for (let a = 0; a < 12; a++) {
        expect(m.has(a)).toBe(ref.has(a));
        expect(m.get(a)?.[0]).toBe(ref.get(a)?.[0]);
      }
      expect(m.get(10_000)?.[0]).toBe(ref.get(10_000)?.[0]);
      expect(m.maxAddr).toBe(Math.max(...addrs));
      expect(new Map(m)).toEqual(ref);
      expect([...m.keys()].sort((x, y) => x - y)).toEqual([...addrs].sort((x, y) => x - y));
      const seen: number[] = [];
      m.forEach((b, a) => seen.push(a * 100 + b[0]));
      expect(seen.sort((x, y) => x - y)).toEqual([...ref].map(([a, b]) => a * 100 + b[0]).sort((x, y) => x - y));
    }
  });

  it('a copy and its original change independently', () => {
    const a = BlockMap.empty().set(0, block(1)).set(2, block(2));
    const b = a.copy().set(2, block(3)).set(5, block(4));
    expect([a.get(2)?.[0], a.has(5), a.size]).toEqual([2, false, 2]);
    expect([b.get(2)?.[0], b.get(5)?.[0], b.size]).toEqual([3, 4, 3]);
    const far = b.copy().set(100_000, block(5));
    expect([b.has(100_000), far.get(100_000)?.[0], far.get(0)?.[0], far.size]).toEqual([false, 5, 1, 4]);
  });

  it('gets the same content id from the block store as a Map with the same blocks', () => {
    const s = new BlockStore();
    const x = s.intern(block(1));
    const y = s.intern(block(2));
    expect(s.idOfMap(BlockMap.empty().set(3, y).set(0, x))).toBe(s.idOfMap(new Map([[0, x], [3, y]])));
    expect(s.idOfMap(BlockMap.empty().set(0, x).set(9_000, y))).toBe(s.idOfMap(new Map([[9_000, y], [0, x]])));
    expect(s.idOfMap(BlockMap.empty().set(0, x).set(3, x))).not.toBe(s.idOfMap(new Map([[0, x], [3, y]])));
    expect(BlockMap.of(new Map([[1, x]])).get(1)).toBe(x);
  });
});
