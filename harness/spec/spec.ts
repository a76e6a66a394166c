import type { Entry } from './history.ts';

/**
 * A specification: a small state machine that is obviously correct. The checker asks it
 * whether each operation, with the result the layer gave, is possible in a state.
 *
 * All functions are pure: states are values, never mutated.
 */
export interface Spec<S, Op, Res, Obs> {
  readonly name: string;
  init(): S;
  /**
   * The state after `op` returned `result`, or undefined if that result is impossible.
   * `result` is undefined for an operation cut short by a crash (its result is unknown).
   */
  step(state: S, op: Op, result: Res | undefined): S | undefined;
  /** The state right after a crash (e.g. the buffered disk forgets which value is current). */
  crash(state: S): S;
  /** The state after the whole state was read back as `obs`, or undefined if `obs` is impossible. */
  observe(state: S, obs: Obs): S | undefined;
  /** A string that identifies the state (memoisation). */
  key(state: S): string;
  /** Optional: splits a history into independent parts checked one by one (e.g. by address). */
  partition?(entries: Entry<Op, Res, Obs>[]): Entry<Op, Res, Obs>[][];
  /** For counterexamples: the state in words. */
  show?(state: S): string;
}
