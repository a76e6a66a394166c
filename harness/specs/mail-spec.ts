import type { Spec } from '../spec/spec.ts';

/**
 * The mail spec: the atomic state machine that defines what the mail store may do
 * (mailboxes of messages; deliver adds one whole message under a fresh id, deliverMany adds
 * one to each of several mailboxes at one instant, delete removes one, pickup returns them
 * in any order and locks the mailbox, unlock releases it).
 *
 * Messages are binary strings (one char per byte, latin1), so states are plain values that
 * key() can print. Ids are fresh per mailbox: never handed out twice, even after a delete.
 *
 * Results carry errors as values ({ err: code }), so that a typed error is a result the spec
 * checks, and `undefined` means only "cut short by a crash". A delivery cut short by a
 * crash may have taken effect with an id nobody saw: the message is then held with id
 * null, and the first pickup or read-back that shows it binds the id (which must be fresh).
 * A deliverMany cut short by a crash is placed whole or not at all, like any operation: it
 * adds its id-null message to every recipient's mailbox or to none, never to some.
 *
 * A crash only unlocks: the store keeps messages durably, and locks live in memory.
 * Pure: states are never mutated.
 */

export interface MailSpecConfig {
  users: readonly string[];
  maxMessageBytes: number;
}

export interface MailItem {
  /** null: delivered by an operation cut short by a crash; not yet seen. */
  readonly id: number | null;
  readonly msg: string;
}

export interface MailSpecState {
  readonly boxes: Readonly<Record<string, readonly MailItem[]>>;
  /** Ids each mailbox has handed out, sorted. */
  readonly used: Readonly<Record<string, readonly number[]>>;
  /** Locked mailboxes, sorted. */
  readonly locked: readonly string[];
}

export type MailOp =
  | { t: 'deliver'; user: string; msg: string }
  /** One message to each of `users`, at one instant (one transaction); refused for all or none. */
  | { t: 'deliverMany'; users: readonly string[]; msg: string }
  | { t: 'pickup'; user: string }
  | { t: 'delete'; user: string; id: number }
  | { t: 'unlock'; user: string };

export type MailRes =
  | { err: string }
  | { id: number } // deliver
  | { ids: readonly number[] } // deliverMany, in the order of its users
  | { messages: readonly { id: number; msg: string }[] } // pickup
  | { ok: true }; // delete, unlock

/** The whole store read back after recovery: each user's messages, in any order. */
export type MailObs = Readonly<Record<string, readonly { id: number; msg: string }[]>>;

const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,31}$/;

export function mailSpec(config: MailSpecConfig): Spec<MailSpecState, MailOp, MailRes, MailObs> {
  const users = [...config.users].sort();
  // Keys name messages by a number per distinct message (this spec's own table): a state's
  // key stays exact without carrying every message's bytes, JSON-escaped, for each state
  // the checker memoises. States are immutable, so each one's key is built once.
  const msgIds = new Map<string, number>();
  const msgId = (msg: string): number => {
    let id = msgIds.get(msg);
    if (id === undefined) msgIds.set(msg, (id = msgIds.size));
    return id;
  };
  const keys = new WeakMap<MailSpecState, string>();
  const init = (): MailSpecState => ({
    boxes: Object.fromEntries(users.map((u) => [u, []])),
    used: Object.fromEntries(users.map((u) => [u, []])),
    locked: [],
  });
  return {
    name: 'mail',
    init,
    step: (s, op, res) => mailStep(config, s, op, res),
    crash: (s) => (s.locked.length === 0 ? s : { ...s, locked: [] }),
    observe(s, obs) {
      let next = s;
      for (const u of users) {
        const bound = bindAll(next, u, obs[u] ?? []);
        if (!bound) return undefined;
        next = bound;
      }
      for (const u of Object.keys(obs)) if (!users.includes(u) && obs[u].length > 0) return undefined;
      return next;
    },
    key(s) {
      let k = keys.get(s);
      if (k === undefined) keys.set(s, (k = JSON.stringify([users.map((u) => [s.boxes[u].map((m) => [m.id, msgId(m.msg)]), s.used[u]]), s.locked])));
      return k;
    },
    show: (s) =>
      users.map((u) => `${u}${s.locked.includes(u) ? '(locked)' : ''}: {${s.boxes[u].map((m) => `${m.id ?? '?'}=${JSON.stringify(m.msg.slice(0, 16))}`).join(', ')}}`).join(' '),
  };
}

/**
 * The state after `op` returned `res` (undefined: cut short by a crash), or undefined if
 * the spec does not allow that result from `s`.
 */
export function mailStep(config: MailSpecConfig, s: MailSpecState, op: MailOp, res: MailRes | undefined): MailSpecState | undefined {
  const pending = res === undefined;
  const err = res && 'err' in res ? res.err : undefined;
  const expectErr = (code: string) => (pending || err === code ? s : undefined);
  if (op.t === 'deliverMany') return deliverManyStep(config, s, op, res);
  if (!USER_NAME.test(op.user)) return expectErr('ERR_INVALID_USER');
  const box = s.boxes[op.user];
  if (!box) return expectErr('ERR_UNKNOWN_USER');
  const locked = s.locked.includes(op.user);

  switch (op.t) {
    case 'deliver': {
      if (op.msg.length > config.maxMessageBytes) return expectErr('ERR_MESSAGE_TOO_LARGE');
      if (err !== undefined) return err === 'ERR_STORE_FULL' ? s : undefined; // a full store may refuse
      if (pending) return withBox(s, op.user, [...box, { id: null, msg: op.msg }]);
      if (!res || !('id' in res) || !Number.isSafeInteger(res.id) || res.id < 0) return undefined;
      if (s.used[op.user].includes(res.id)) return undefined; // not fresh
      return withUsed(withBox(s, op.user, [...box, { id: res.id, msg: op.msg }]), op.user, res.id);
    }
    case 'pickup': {
      if (locked) return undefined; // pickup waits for the lock: not enabled now
      if (err !== undefined) return undefined;
      const afterLock = { ...s, locked: [...s.locked, op.user].sort() };
      if (pending) return afterLock;
      if (!res || !('messages' in res)) return undefined;
      return bindAll(afterLock, op.user, res.messages);
    }
    case 'delete': {
      if (!locked) return expectErr('ERR_NOT_LOCKED');
      const i = box.findIndex((m) => m.id === op.id);
      if (i < 0) return expectErr('ERR_UNKNOWN_MESSAGE');
      if (err !== undefined) return undefined;
      return withBox(s, op.user, box.filter((_, j) => j !== i));
    }
    case 'unlock': {
      if (!locked) return expectErr('ERR_NOT_LOCKED');
      if (err !== undefined) return undefined;
      return { ...s, locked: s.locked.filter((u) => u !== op.user) };
    }
  }
}

/**
 * deliverMany: every recipient is checked before anything is delivered (the first bad name,
 * in the order given, decides the refusal); then either each recipient gets the message
 * under a fresh id (the ids returned in the order of `users`; a user named twice gets two
 * messages with two ids), or, cut short, each gets it with an unseen id, or, refused for a
 * full store or mailbox, none does.
 */
function deliverManyStep(config: MailSpecConfig, s: MailSpecState, op: { users: readonly string[]; msg: string }, res: MailRes | undefined): MailSpecState | undefined {
  const pending = res === undefined;
  const err = res && 'err' in res ? res.err : undefined;
  const expectErr = (code: string) => (pending || err === code ? s : undefined);
  for (const u of op.users) {
    if (!USER_NAME.test(u)) return expectErr('ERR_INVALID_USER');
    if (!Object.hasOwn(s.boxes, u)) return expectErr('ERR_UNKNOWN_USER');
  }
  if (op.msg.length > config.maxMessageBytes) return expectErr('ERR_MESSAGE_TOO_LARGE');
  if (err !== undefined) return err === 'ERR_STORE_FULL' ? s : undefined; // refused for every recipient
  if (pending) {
    let next = s;
    for (const u of op.users) next = withBox(next, u, [...next.boxes[u], { id: null, msg: op.msg }]);
    return next;
  }
  if (!res || !('ids' in res) || !Array.isArray(res.ids) || res.ids.length !== op.users.length) return undefined;
  let next = s;
  for (let i = 0; i < op.users.length; i++) {
    const u = op.users[i];
    const id = res.ids[i];
    if (!Number.isSafeInteger(id) || id < 0 || next.used[u].includes(id)) return undefined; // not fresh
    next = withUsed(withBox(next, u, [...next.boxes[u], { id, msg: op.msg }]), u, id);
  }
  return next;
}

/**
 * Checks that `seen` is exactly user's mailbox (as a set), binding null ids of messages
 * delivered by crashed operations to the ids seen. Undefined if it cannot be.
 */
function bindAll(s: MailSpecState, user: string, seen: readonly { id: number; msg: string }[]): MailSpecState | undefined {
  const box = s.boxes[user];
  if (!box || seen.length !== box.length) return undefined;
  const ids = new Set(seen.map((m) => m.id));
  if (ids.size !== seen.length) return undefined;
  const next: MailItem[] = box.slice();
  const taken = new Array<boolean>(next.length).fill(false);
  let used = s.used[user];
  // Known ids first, then unseen deliveries by content. Equal contents are interchangeable,
  // so taking the first unbound match never rules out a binding that another choice allows.
  const unknown: { id: number; msg: string }[] = [];
  for (const m of seen) {
    const i = next.findIndex((x, j) => !taken[j] && x.id === m.id);
    if (i < 0) unknown.push(m);
    else if (next[i].msg !== m.msg) return undefined;
    else taken[i] = true;
  }
  for (const m of unknown) {
    const i = next.findIndex((x, j) => !taken[j] && x.id === null && x.msg === m.msg);
    if (i < 0 || used.includes(m.id)) return undefined;
    taken[i] = true;
    next[i] = { id: m.id, msg: m.msg };
    used = [...used, m.id].sort((a, b) => a - b);
  }
  return { ...s, boxes: { ...s.boxes, [user]: sortItems(next) }, used: { ...s.used, [user]: used } };
}

function sortItems(items: MailItem[]): MailItem[] {
  return items.sort((a, b) => (a.id ?? -1) - (b.id ?? -1) || (a.msg < b.msg ? -1 : a.msg > b.msg ? 1 : 0));
}

function withBox(s: MailSpecState, user: string, box: MailItem[]): MailSpecState {
  return { ...s, boxes: { ...s.boxes, [user]: sortItems(box) } };
}

function withUsed(s: MailSpecState, user: string, id: number): MailSpecState {
  return { ...s, used: { ...s.used, [user]: [...s.used[user], id].sort((a, b) => a - b) } };
}
