/**
 * The contract every layer's recovery keeps.
 *
 * A recovery procedure takes the layer below, already recovered, and returns this layer
 * open and ready to serve. It runs on open, before any operation. It must be:
 * - idempotent: running it twice (or after a run that finished) changes nothing more;
 * - restartable: a crash at any write it makes is followed by running it again from the
 *   start, and that run must still end in a state the layer's spec explains;
 * - making progress: each run ends (it is a bounded pass over on-disk state).
 * The harness checks these properties by crashing recovery at each of its own write points.
 */
export interface RecoveryProcedure<Below, Above> {
  /** Names the layer, e.g. "replicated-disk"; a composed procedure joins the names with " > ". */
  readonly name: string;
  /** The names of the single-layer procedures this one runs, lowest layer first. */
  readonly steps: readonly string[];
  /** Recovers this layer over `below` and returns it open. */
  recover(below: Below): Promise<Above>;
}

/** Makes a single-layer recovery procedure. */
export function procedure<Below, Above>(name: string, recover: (below: Below) => Promise<Above>): RecoveryProcedure<Below, Above> {
  return { name, steps: [name], recover };
}
