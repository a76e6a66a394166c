import type { Target } from '../target.ts';

/** A deliberately broken variant of a layer: the harness must report a violation for it. */
export interface Mutant {
  readonly name: string;
  /** Which layer is broken. */
  readonly layer: string;
  /** The one change, in words. */
  readonly change: string;
  /** The target with the broken layer in place (same workloads and spec as the real one). */
  target(): Target;
}
