import { describe, expect, it } from 'vitest';
import { explore } from '../harness/explore.ts';
import { mutantCatalogue } from '../harness/mutant-catalogue.ts';
import { mailMutants } from '../harness/mutants/mail-mutants.ts';
import { History, entriesOf } from '../harness/spec/history.ts';
import { checkHistory } from '../harness/spec/linearizability.ts';
import { mailSpec, type MailObs, type MailOp, type MailRes } from '../harness/specs/mail-spec.ts';
import { runMutant } from '../harness/suite.ts';
import { mailTarget } from '../harness/targets/mail.ts';

/** deliverMany in the crash harness: the spec's all-or-none fan-out, the workload, the mutant. */

const spec = mailSpec({ users: ['ann', 'bo'], maxMessageBytes: 10 });
type H = History<MailOp, MailRes, MailObs>;

const verdict = (h: H): string => checkHistory(spec, entriesOf(h.events)).verdict;
function op(h: H, client: number, o: MailOp, r: MailRes): void {
  h.ret(h.call(client, o), r);
}
const many = (msg: string, users: string[] = ['ann', 'bo']): MailOp => ({ t: 'deliverMany', users, msg });

describe('mail spec: deliverMany', () => {
  it('adds the message to every recipient under the ids returned, each fresh in its mailbox', () => {
    const ok: H = new History();
    op(ok, 0, { t: 'deliver', user: 'bo', msg: 'b' }, { id: 4 });
    op(ok, 0, many('m'), { ids: [4, 5] }); // the same number in two mailboxes is fine
    op(ok, 1, { t: 'pickup', user: 'ann' }, { messages: [{ id: 4, msg: 'm' }] });
    op(ok, 1, { t: 'pickup', user: 'bo' }, { messages: [{ id: 4, msg: 'b' }, { id: 5, msg: 'm' }] });
    expect(verdict(ok)).toBe('ok');

    const swapped: H = new History(); // ids come back in the order of the users
    op(swapped, 0, { t: 'deliver', user: 'bo', msg: 'b' }, { id: 4 });
    op(swapped, 0, many('m'), { ids: [5, 4] });
    expect(verdict(swapped)).toBe('violation');

    const twice: H = new History(); // a user named twice gets two messages with two ids
    op(twice, 0, many('m', ['ann', 'ann']), { ids: [1, 1] });
    expect(verdict(twice)).toBe('violation');
    const twiceOk: H = new History();
    op(twiceOk, 0, many('m', ['ann', 'ann']), { ids: [1, 2] });
    op(twiceOk, 0, { t: 'pickup', user: 'ann' }, { messages: [{ id: 1, msg: 'm' }, { id: 2, msg: 'm' }] });
    expect(verdict(twiceOk)).toBe('ok');

    const short: H = new History();
    op(short, 0, many('m'), { ids: [1] });
    expect(verdict(short)).toBe('violation');
  });

  it('is seen by readers in every mailbox or in none', () => {
    const half: H = new History();
    const id = half.call(0, many('m')); // still running while a reader looks at both mailboxes
    op(half, 1, { t: 'pickup', user: 'ann' }, { messages: [{ id: 0, msg: 'm' }] });
    op(half, 1, { t: 'pickup', user: 'bo' }, { messages: [] });
    half.ret(id, { ids: [0, 0] });
    expect(verdict(half)).toBe('violation');

    const before: H = new History();
    const id2 = before.call(0, many('m'));
    op(before, 1, { t: 'pickup', user: 'ann' }, { messages: [] }); // not yet: fine
    op(before, 1, { t: 'pickup', user: 'bo' }, { messages: [{ id: 0, msg: 'm' }] });
    before.ret(id2, { ids: [0, 0] });
    expect(verdict(before)).toBe('ok');
  });

  it('cut short by a crash: in both mailboxes (under unseen, fresh ids) or in neither, never in one', () => {
    const base = (): H => {
      const h: H = new History();
      op(h, 0, { t: 'deliver', user: 'bo', msg: 'b' }, { id: 3 });
      h.call(0, many('m'));
      h.crash('crash');
      return h;
    };
    const all = base();
    all.observe('after', { ann: [{ id: 0, msg: 'm' }], bo: [{ id: 1, msg: 'm' }, { id: 3, msg: 'b' }] });
    expect(verdict(all)).toBe('ok');
    const none = base();
    none.observe('after', { ann: [], bo: [{ id: 3, msg: 'b' }] });
    expect(verdict(none)).toBe('ok');
    const onlyAnn = base();
    onlyAnn.observe('after', { ann: [{ id: 0, msg: 'm' }], bo: [{ id: 3, msg: 'b' }] });
    expect(verdict(onlyAnn)).toBe('violation');
    const onlyBo = base();
    onlyBo.observe('after', { ann: [], bo: [{ id: 1, msg: 'm' }, { id: 3, msg: 'b' }] });
    expect(verdict(onlyBo)).toBe('violation');
    const stale = base(); // bo's 3 is taken
    stale.observe('after', { ann: [{ id: 0, msg: 'm' }], bo: [{ id: 3, msg: 'm' }, { id: 4, msg: 'b' }] });
    expect(verdict(stale)).toBe('violation');
  });

  it('refusals deliver to no one: a bad or unknown recipient anywhere in the list, a full store, a message too large', () => {
    const h: H = new History();
    op(h, 0, many('m', ['ann', 'zed']), { err: 'ERR_UNKNOWN_USER' });
    op(h, 0, many('m', ['ann', 'Bad!', 'zed']), { err: 'ERR_INVALID_USER' }); // the first bad name decides
    op(h, 0, many('m'), { err: 'ERR_STORE_FULL' });
    op(h, 0, many('x'.repeat(11)), { err: 'ERR_MESSAGE_TOO_LARGE' });
    op(h, 0, many('m', []), { ids: [] });
    op(h, 1, { t: 'pickup', user: 'ann' }, { messages: [] });
    op(h, 1, { t: 'pickup', user: 'bo' }, { messages: [] });
    expect(verdict(h)).toBe('ok');

    const wrongCode: H = new History();
    op(wrongCode, 0, many('m', ['ann', 'Bad!', 'zed']), { err: 'ERR_UNKNOWN_USER' });
    expect(verdict(wrongCode)).toBe('violation');
    const deliveredAnyway: H = new History();
    op(deliveredAnyway, 0, many('m', ['ann', 'zed']), { ids: [0, 0] });
    expect(verdict(deliveredAnyway)).toBe('violation');
  });
});

describe('mail target: deliverMany', () => {
  const t = mailTarget();
  const w = t.workloads.find((x) => x.name === 'mail-deliver-many');

  it('ships a workload that fans one message out to both users while another client delivers and reads both mailboxes', async () => {
    expect(w).toBeDefined();
    expect(w!.clients.flat().some((o) => o.t === 'deliverMany' && o.users.length === 2)).toBe(true);
    const r = await explore(t, w!, { models: ['sync'], depth: 1 });
    expect(r.points).toBeGreaterThan(20);
    expect(r.violations).toEqual([]);
    expect(r.byModel.sync!.unknown).toBe(0);
    // Its recovery is crashed once whatever the run's depth (maxDepth): depth 2 explores exactly depth 1's states.
    expect(w!.maxDepth).toBe(1);
    const deeper = await explore(t, w!, { models: ['sync'], depth: 2 });
    expect(deeper.byModel.sync!.states).toBe(r.byModel.sync!.states);
    const unbounded = await explore(t, { ...w!, maxDepth: undefined }, { models: ['sync'], depth: 2 });
    expect(unbounded.byModel.sync!.states).toBeGreaterThan(r.byModel.sync!.states);
  });

  it('catches mail-deliver-many-per-recipient (one transaction per recipient) in that workload', async () => {
    const m = mailMutants.find((x) => x.name === 'mail-deliver-many-per-recipient');
    expect(m, 'the mutant is shipped').toBeDefined();
    expect(mutantCatalogue).toContain(m);
    const r = await runMutant(m!, { seed: 1, depth: 1, models: ['sync'] }, 2);
    expect(r.caught, 'mail-deliver-many-per-recipient survived').toBe(true);
    expect(r.by!.workload).toBe('mail-deliver-many');
    // Half delivered: the read-back (after a crash between the recipients' transactions) or
    // a reader shows the message in one mailbox and not in the other.
    expect(r.by!.detail).toMatch(/impossible in spec state/);
  });
});
