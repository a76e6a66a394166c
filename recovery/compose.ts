import type { RecoveryProcedure } from './procedure.ts';

/**
 * Composition of recovery procedures, lowest layer first: the stack's recovery is the
 * lower procedure, then the upper one over what it returned. Each procedure was checked
 * against the layer below as if that layer were atomic; running them in this order is
 * what makes that assumption true, since the upper procedure sees the lower layer only
 * after the lower one has restored its own invariant.
 *
 * If any step throws, the layers already opened are closed (when they can be), so a
 * failed open does not leak file handles.
 */
export function compose<A, B, C>(lower: RecoveryProcedure<A, B>, upper: RecoveryProcedure<B, C>): RecoveryProcedure<A, C> {
  return {
    name: `${lower.name} > ${upper.name}`,
    steps: [...lower.steps, ...upper.steps],
    async recover(below: A): Promise<C> {
      const mid = await lower.recover(below);
      try {
        return await upper.recover(mid);
      } catch (err) {
        await closeQuietly(mid);
        throw err;
      }
    },
  };
}

/** Composes any number of procedures, lowest first. Types line up pairwise. */
export function stack<A, B, C>(p1: RecoveryProcedure<A, B>, p2: RecoveryProcedure<B, C>): RecoveryProcedure<A, C>;
export function stack<A, B, C, D>(p1: RecoveryProcedure<A, B>, p2: RecoveryProcedure<B, C>, p3: RecoveryProcedure<C, D>): RecoveryProcedure<A, D>;
export function stack<A, B, C, D, E>(p1: RecoveryProcedure<A, B>, p2: RecoveryProcedure<B, C>, p3: RecoveryProcedure<C, D>, p4: RecoveryProcedure<D, E>): RecoveryProcedure<A, E>;
export function stack(...ps: RecoveryProcedure<any, any>[]): RecoveryProcedure<any, any> {
  if (ps.length === 0) throw new TypeError('stack() needs at least one procedure');
  return ps.reduce((acc, p) => compose(acc, p));
}

async function closeQuietly(layer: unknown): Promise<void> {
  const close = (layer as { close?: () => Promise<void> } | null)?.close;
  if (typeof close === 'function') {
    try {
      await close.call(layer);
    } catch {
      // The open already failed with a more useful error; this one would hide it.
    }
  }
}
