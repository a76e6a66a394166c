/** One completed operation on a single register (a block address), with its real-time interval. */
export interface RegisterOp {
  kind: 'read' | 'write';
  /** The value written, or the value the read returned. */
  value: string;
  call: number;
  ret: number;
}

/**
 * Brute-force linearizability check of a small register history: is there an order of the
 * operations that respects real time (an op that returned before another was called comes
 * first) in which every read returns the latest write before it (or `initial`) and the last
 * write is `final`? Exponential, so only for the handful of ops a test makes per address.
 */
export function linearizable(ops: RegisterOp[], initial: string, final?: string): boolean {
  const n = ops.length;
  if (n > 16) throw new Error('history too long for the brute-force checker');
  const seen = new Set<string>();
  const search = (done: number, value: string): boolean => {
    if (done === (1 << n) - 1) return final === undefined || value === final;
    const key = `${done}:${value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    // The earliest return among pending ops bounds which ops may go next.
    let minRet = Infinity;
    for (let i = 0; i < n; i++) if (!(done & (1 << i))) minRet = Math.min(minRet, ops[i].ret);
    for (let i = 0; i < n; i++) {
      if (done & (1 << i)) continue;
      const op = ops[i];
      if (op.call > minRet) continue;
      if (op.kind === 'read') {
        if (op.value === value && search(done | (1 << i), value)) return true;
      } else if (search(done | (1 << i), op.value)) return true;
    }
    return false;
  };
  return search(0, initial);
}
