/**
 * The mail spec: the atomic state machine that defines what the mail store may do.
 *
 * State: a mailbox (id -> message bytes) per user, the ids each mailbox has ever handed
 * out (ids are fresh: never reused, even after a delete), and which mailboxes are locked.
 * Operations are checked with their observed results: step(state, op, result) returns the
 * next state if the spec allows that result from that state, or a reason why not. That
 * shape lets a linearizability checker try orders of concurrent operations, and covers the
 * spec's own freedom (any fresh id; pickup in any order; a full store may refuse a
 * delivery).
 *
 * Pure: states are never mutated; every step builds a new state.
 */

export interface MailSpecConfig {
  users: readonly string[];
  maxMessageBytes: number;
}

export interface MailSpecState {
  readonly boxes: ReadonlyMap<string, ReadonlyMap<number, Uint8Array>>;
  readonly usedIds: ReadonlyMap<string, ReadonlySet<number>>;
  readonly locked: ReadonlySet<string>;
}

export type MailOp =
  | { kind: 'deliver'; user: string; message: Uint8Array }
  | { kind: 'pickup'; user: string }
  | { kind: 'delete'; user: string; id: number }
  | { kind: 'unlock'; user: string };

/** What the implementation returned: a value, or a typed error's code. */
export type MailResult =
  | { ok: true; id?: number; messages?: readonly { id: number; data: Uint8Array }[] }
  | { ok: false; code: string };

export type StepOutcome = { allowed: true; state: MailSpecState } | { allowed: false; reason: string };

export function initialMailState(config: MailSpecConfig): MailSpecState {
  return {
    boxes: new Map(config.users.map((u) => [u, new Map()])),
    usedIds: new Map(config.users.map((u) => [u, new Set()])),
    locked: new Set(),
  };
}

/** A crash loses only memory: every mailbox opens unlocked, the messages stay. */
export function crashMailState(s: MailSpecState): MailSpecState {
  return { ...s, locked: new Set() };
}

/**
 * Whether `op` may be linearized now: a pickup of a locked mailbox waits (it is not enabled
 * until an unlock), everything else is always enabled.
 */
export function mailEnabled(s: MailSpecState, op: MailOp): boolean {
  return !(op.kind === 'pickup' && s.locked.has(op.user));
}

export function mailStep(config: MailSpecConfig, s: MailSpecState, op: MailOp, r: MailResult): StepOutcome {
  const box = s.boxes.get(op.user);
  const no = (reason: string): StepOutcome => ({ allowed: false, reason });
  const expectError = (code: string): StepOutcome =>
    r.ok ? no(`${op.kind} for ${op.user} should fail with ${code}`) : r.code === code ? { allowed: true, state: s } : no(`${op.kind} failed with ${r.code}, spec says ${code}`);
  if (!/^[a-z0-9][a-z0-9._-]{0,31}$/.test(op.user)) return expectError('ERR_INVALID_USER');
  if (!box) return expectError('ERR_UNKNOWN_USER');

  switch (op.kind) {
    case 'deliver': {
      if (op.message.length > config.maxMessageBytes) return expectError('ERR_MESSAGE_TOO_LARGE');
      if (!r.ok) return r.code === 'ERR_STORE_FULL' ? { allowed: true, state: s } : no(`deliver failed with ${r.code}`);
      const id = r.id;
      if (id === undefined || !Number.isSafeInteger(id) || id < 0) return no('deliver returned no id');
      const used = s.usedIds.get(op.user)!;
      if (used.has(id)) return no(`deliver returned id ${id}, already used in ${op.user}'s mailbox`);
      return {
        allowed: true,
        state: {
          ...s,
          boxes: withEntry(s.boxes, op.user, withEntry(box, id, op.message.slice())),
          usedIds: withEntry(s.usedIds, op.user, new Set([...used, id])),
        },
      };
    }
    case 'pickup': {
      if (s.locked.has(op.user)) return no(`pickup of ${op.user} while the mailbox is locked`);
      if (!r.ok) return no(`pickup failed with ${r.code}`);
      const got = r.messages ?? [];
      if (got.length !== box.size) return no(`pickup of ${op.user} returned ${got.length} messages, spec holds ${box.size}`);
      const ids = new Set<number>();
      for (const m of got) {
        const want = box.get(m.id);
        if (!want) return no(`pickup of ${op.user} returned id ${m.id}, not in the mailbox`);
        if (ids.has(m.id)) return no(`pickup of ${op.user} returned id ${m.id} twice`);
        ids.add(m.id);
        if (!bytesEqual(want, m.data)) return no(`pickup of ${op.user}: message ${m.id} differs from what was delivered`);
      }
      return { allowed: true, state: { ...s, locked: new Set([...s.locked, op.user]) } };
    }
    case 'delete': {
      if (!s.locked.has(op.user)) return expectError('ERR_NOT_LOCKED');
      if (!box.has(op.id)) return expectError('ERR_UNKNOWN_MESSAGE');
      if (!r.ok) return no(`delete failed with ${r.code}`);
      const next = new Map(box);
      next.delete(op.id);
      return { allowed: true, state: { ...s, boxes: withEntry(s.boxes, op.user, next) } };
    }
    case 'unlock': {
      if (!s.locked.has(op.user)) return expectError('ERR_NOT_LOCKED');
      if (!r.ok) return no(`unlock failed with ${r.code}`);
      const locked = new Set(s.locked);
      locked.delete(op.user);
      return { allowed: true, state: { ...s, locked } };
    }
  }
}

function withEntry<K, V>(m: ReadonlyMap<K, V>, k: K, v: V): Map<K, V> {
  const out = new Map(m);
  out.set(k, v);
  return out;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
