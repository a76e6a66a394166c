import { describe, expect, it } from 'vitest';
import { atomicDiskSpec, type DiskObs, type DiskOp, type DiskRes } from '../harness/spec/atomic-disk.ts';
import { entriesOf, History } from '../harness/spec/history.ts';
import { checkHistory } from '../harness/spec/linearizability.ts';
import { transactionalDiskSpec, type TxOp, type TxRes } from '../harness/spec/transactional-disk.ts';
import { valueKey } from '../harness/values.ts';

type H = History<DiskOp, DiskRes, DiskObs>;
const W = (addr: number, val: number): DiskOp => ({ t: 'write', addr, val });
const check = (h: H, buffered = false) => checkHistory(atomicDiskSpec(2, buffered), entriesOf(h.events)).verdict;

describe('linearizability checker on the atomic disk', () => {
  it('accepts concurrent writes read back in either order', () => {
    for (const last of [1, 2]) {
      const h: H = new History();
      const a = h.call(0, W(0, 1));
      const b = h.call(1, W(0, 2));
      h.ret(a, null);
      h.ret(b, null);
      const r = h.call(0, { t: 'read', addr: 0 });
      h.ret(r, last);
      expect(check(h)).toBe('ok');
    }
  });

  it('rejects a read of a value overwritten before the read was called', () => {
    const h: H = new History();
    h.ret(h.call(0, W(0, 1)), null);
    h.ret(h.call(0, W(0, 2)), null);
    h.ret(h.call(1, { t: 'read', addr: 0 }), 1);
    expect(check(h)).toBe('violation');
  });

  it('synchronous: a returned write survives a crash; a pending one may or may not', () => {
    const base = () => {
      const h: H = new History();
      h.ret(h.call(0, W(0, 1)), null);
      h.call(0, W(1, 5));
      h.crash('crash');
      return h;
    };
    for (const [obs, verdict] of [
      [[1, 0], 'ok'],
      [[1, 5], 'ok'],
      [[0, 5], 'violation'],
      [[0, 0], 'violation'],
    ] as const) {
      const h = base();
      h.observe('read-back', [...obs]);
      expect(check(h)).toBe(verdict);
    }
  });

  it('buffered: an unflushed write may be lost, a flushed one may not', () => {
    const unflushed: H = new History();
    unflushed.ret(unflushed.call(0, W(0, 1)), null);
    unflushed.crash('crash');
    unflushed.observe('read-back', [0, 0]);
    expect(check(unflushed, true)).toBe('ok');
    expect(check(unflushed, false)).toBe('violation');

    const flushed: H = new History();
    flushed.ret(flushed.call(0, W(0, 1)), null);
    flushed.ret(flushed.call(0, { t: 'flush' }), null);
    flushed.crash('crash');
    flushed.observe('read-back', [0, 0]);
    expect(check(flushed, true)).toBe('violation');
  });

  it('rejects two read-backs of one crash state that disagree', () => {
    const h: H = new History();
    h.call(0, W(0, 1));
    h.crash('crash');
    h.observe('read-back', [1, 0]);
    h.observe('read-back after a disk failed', [0, 0]);
    expect(check(h, true)).toBe('violation');
  });

  it('answers unknown, not a verdict, when the step bound runs out', () => {
    const h: H = new History();
    const ids = [0, 1, 2, 3, 4, 5].map((c) => h.call(c, W(0, c + 1)));
    for (const id of ids) h.ret(id, null);
    h.ret(h.call(0, { t: 'read', addr: 0 }), 99);
    expect(checkHistory(atomicDiskSpec(2, false), entriesOf(h.events), { maxSteps: 3 }).verdict).toBe('unknown');
    expect(checkHistory(atomicDiskSpec(2, false), entriesOf(h.events)).verdict).toBe('violation');
  });
});

describe('checker on the transactional disk', () => {
  const spec = transactionalDiskSpec(2);
  const tx = (writes: [number, number][]): TxOp => ({ t: 'tx', reads: [], writes });
  it('a transaction cut short is all or nothing', () => {
    for (const [obs, verdict] of [
      [[0, 0], 'ok'],
      [[1, 2], 'ok'],
      [[1, 0], 'violation'],
    ] as const) {
      const h = new History<TxOp, TxRes, DiskObs>();
      h.call(0, tx([[0, 1], [1, 2]]));
      h.crash('crash');
      h.observe('read-back', [...obs]);
      expect(checkHistory(spec, entriesOf(h.events)).verdict).toBe(verdict);
    }
  });

  it('a transaction whose reads contradict the serial order is rejected', () => {
    const h = new History<TxOp, TxRes, DiskObs>();
    h.ret(h.call(0, tx([[0, 1]])), []);
    h.ret(h.call(0, { t: 'tx', reads: [0], writes: [[1, 3]] }), [0]);
    expect(checkHistory(spec, entriesOf(h.events)).verdict).toBe('violation');
  });
});

describe('valueKey: read-backs key the verdict cache only by what a spec can tell apart', () => {
  it('gives equal values equal keys and tells apart what JSON would merge', () => {
    expect(valueKey({ a: [1, 'x', null], b: { c: true } })).toBe(valueKey({ a: [1, 'x', null], b: { c: true } }));
    const distinct = [undefined, null, 0, -0, NaN, Infinity, '0', 1n, [], [undefined], [null], {}, { a: undefined }, new Map([[1, 2]]), new Map(), new Set([1]), new Uint8Array([1, 2]), new Uint8Array([1, 3]), [1, 2]];
    const keys = distinct.map(valueKey);
    expect(new Set(keys).size).toBe(distinct.length);
  });
});
