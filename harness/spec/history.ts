/**
 * A history: what the clients did, as the harness saw it. Calls and returns of client
 * operations (with results), crashes, and observations (the whole state read back
 * through the top layer after a recovery). Operations called and not returned when a
 * crash came are pending: the spec lets them take effect wholly or not at all.
 */
export type HistoryEvent<Op, Res, Obs> =
  | { type: 'call'; id: number; client: number; op: Op }
  | { type: 'return'; id: number; result?: Res; error?: string }
  | { type: 'crash'; label: string }
  | { type: 'observe'; label: string; obs: Obs };

export class History<Op, Res, Obs> {
  readonly events: HistoryEvent<Op, Res, Obs>[] = [];
  #nextId = 0;

  call(client: number, op: Op): number {
    const id = this.#nextId++;
    this.events.push({ type: 'call', id, client, op });
    return id;
  }

  ret(id: number, result: Res): void {
    this.events.push({ type: 'return', id, result });
  }

  fail(id: number, error: string): void {
    this.events.push({ type: 'return', id, error });
  }

  /** A copy of the first `length` events, to which crashes and observations can be added. */
  prefix(length: number): History<Op, Res, Obs> {
    const h = new History<Op, Res, Obs>();
    h.events.push(...this.events.slice(0, length));
    h.#nextId = this.#nextId;
    return h;
  }

  crash(label: string): void {
    this.events.push({ type: 'crash', label });
  }

  observe(label: string, obs: Obs): void {
    this.events.push({ type: 'observe', label, obs });
  }
}

/** One entry of a history as the checker sees it: an interval [call, ret] in event order. */
export interface Entry<Op, Res, Obs> {
  readonly kind: 'op' | 'crash' | 'observe';
  readonly op?: Op;
  readonly result?: Res;
  readonly obs?: Obs;
  readonly client?: number;
  readonly call: number;
  /** Infinity for an operation still pending at the end of the history. */
  readonly ret: number;
  readonly pending: boolean;
  /** An operation that returned an error. */
  readonly error?: string;
}

/** Turns events into entries (crashes and observations are instants: call = ret). */
export function entriesOf<Op, Res, Obs>(events: readonly HistoryEvent<Op, Res, Obs>[]): Entry<Op, Res, Obs>[] {
  const out: Entry<Op, Res, Obs>[] = [];
  const open = new Map<number, { call: number; op: Op; client: number }>();
  events.forEach((e, t) => {
    if (e.type === 'call') open.set(e.id, { call: t, op: e.op, client: e.client });
    else if (e.type === 'return') {
      const c = open.get(e.id)!;
      open.delete(e.id);
      out.push({ kind: 'op', op: c.op, client: c.client, call: c.call, ret: t, pending: false, result: e.result, error: e.error });
    } else if (e.type === 'crash') out.push({ kind: 'crash', call: t, ret: t, pending: false });
    else out.push({ kind: 'observe', obs: e.obs, call: t, ret: t, pending: false });
  });
  for (const c of open.values()) out.push({ kind: 'op', op: c.op, client: c.client, call: c.call, ret: Number.POSITIVE_INFINITY, pending: true });
  return out.sort((a, b) => a.call - b.call);
}
