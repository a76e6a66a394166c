import { describe, expect, it } from 'vitest';
import { History, entriesOf } from '../harness/spec/history.ts';
import { checkHistory } from '../harness/spec/linearizability.ts';
import { mailSpec, type MailObs, type MailOp, type MailRes } from '../harness/specs/mail-spec.ts';

/** The mail spec on hand-written histories, through the harness's checker. */

const spec = mailSpec({ users: ['ann', 'bo'], maxMessageBytes: 10 });
type H = History<MailOp, MailRes, MailObs>;

function verdict(h: H): string {
  return checkHistory(spec, entriesOf(h.events)).verdict;
}

function op(h: H, client: number, o: MailOp, r: MailRes): void {
  h.ret(h.call(client, o), r);
}

describe('mail spec', () => {
  it('accepts deliver, pickup in any order, delete under the lock, unlock', () => {
    const h: H = new History();
    op(h, 0, { t: 'deliver', user: 'ann', msg: 'a' }, { id: 7 });
    op(h, 0, { t: 'deliver', user: 'ann', msg: 'b' }, { id: 3 });
    op(h, 1, { t: 'pickup', user: 'ann' }, { messages: [{ id: 3, msg: 'b' }, { id: 7, msg: 'a' }] });
    op(h, 1, { t: 'delete', user: 'ann', id: 7 }, { ok: true });
    op(h, 1, { t: 'unlock', user: 'ann' }, { ok: true });
    op(h, 1, { t: 'pickup', user: 'ann' }, { messages: [{ id: 3, msg: 'b' }] });
    expect(verdict(h)).toBe('ok');
  });

  it('rejects a reused id, a pickup that misses a message, and a delete without the lock that succeeds', () => {
    const reused: H = new History();
    op(reused, 0, { t: 'deliver', user: 'ann', msg: 'a' }, { id: 1 });
    op(reused, 0, { t: 'pickup', user: 'ann' }, { messages: [{ id: 1, msg: 'a' }] });
    op(reused, 0, { t: 'delete', user: 'ann', id: 1 }, { ok: true });
    op(reused, 0, { t: 'unlock', user: 'ann' }, { ok: true });
    op(reused, 0, { t: 'deliver', user: 'ann', msg: 'c' }, { id: 1 });
    expect(verdict(reused)).toBe('violation');

    const missed: H = new History();
    op(missed, 0, { t: 'deliver', user: 'bo', msg: 'a' }, { id: 1 });
    op(missed, 1, { t: 'pickup', user: 'bo' }, { messages: [] });
    expect(verdict(missed)).toBe('violation');

    const unlocked: H = new History();
    op(unlocked, 0, { t: 'deliver', user: 'bo', msg: 'a' }, { id: 1 });
    op(unlocked, 0, { t: 'delete', user: 'bo', id: 1 }, { ok: true });
    expect(verdict(unlocked)).toBe('violation');
    const refused: H = new History();
    op(refused, 0, { t: 'deliver', user: 'bo', msg: 'a' }, { id: 1 });
    op(refused, 0, { t: 'delete', user: 'bo', id: 1 }, { err: 'ERR_NOT_LOCKED' });
    op(refused, 0, { t: 'deliver', user: 'bo', msg: 'x'.repeat(11) }, { err: 'ERR_MESSAGE_TOO_LARGE' });
    op(refused, 0, { t: 'deliver', user: 'zed', msg: 'a' }, { err: 'ERR_UNKNOWN_USER' });
    expect(verdict(refused)).toBe('ok');
  });

  it('after a crash: unlocks, keeps acknowledged messages, and lets a cut-short delivery be all or nothing', () => {
    const base = (): H => {
      const h: H = new History();
      op(h, 0, { t: 'deliver', user: 'ann', msg: 'kept' }, { id: 1 });
      op(h, 1, { t: 'pickup', user: 'ann' }, { messages: [{ id: 1, msg: 'kept' }] });
      h.call(0, { t: 'deliver', user: 'ann', msg: 'maybe' }); // cut short
      h.crash('crash');
      return h;
    };
    const without = base();
    without.observe('after', { ann: [{ id: 1, msg: 'kept' }], bo: [] });
    op(without, 0, { t: 'pickup', user: 'ann' }, { messages: [{ id: 1, msg: 'kept' }] }); // unlocked by the crash
    expect(verdict(without)).toBe('ok');

    const withIt = base();
    withIt.observe('after', { ann: [{ id: 1, msg: 'kept' }, { id: 2, msg: 'maybe' }], bo: [] });
    expect(verdict(withIt)).toBe('ok');

    const lost = base();
    lost.observe('after', { ann: [], bo: [] });
    expect(verdict(lost)).toBe('violation');

    const torn = base();
    torn.observe('after', { ann: [{ id: 1, msg: 'kept' }, { id: 2, msg: 'may' }], bo: [] });
    expect(verdict(torn)).toBe('violation');

    const stale = base(); // the cut-short delivery may not reuse an id already handed out
    stale.observe('after', { ann: [{ id: 1, msg: 'kept' }, { id: 1, msg: 'maybe' }], bo: [] });
    expect(verdict(stale)).toBe('violation');
  });
});
