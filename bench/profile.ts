/**
 * How long and how large a run is. `default` is sized to finish within 10 minutes on a
 * 2-core VM, `quick` within about a minute, `dry` in seconds (it checks that the code
 * runs; its figures mean nothing).
 */
export interface Profile {
  name: 'default' | 'quick' | 'dry';
  /** Length of one timed trial. */
  trialMs: number;
  /** Untimed trial of each contender before its group's first round. */
  warmupMs: number;
  rounds: number;
  /** Concurrency levels for the store's 1- and 8-block transactions. */
  storeClients: number[];
  /** Concurrency levels for 64-block transactions. */
  bigTxClients: number[];
  /** Store sizes for the recovery curve, in MiB. */
  recoverySizesMiB: number[];
  /** Crash-and-recover repetitions per size. */
  recoveryReps: number;
  /** Time given to the harness's exploration and to the mail benchmark. */
  harnessMs: number;
  mailMs: number;
}

export const PROFILES: Record<Profile['name'], Profile> = {
  default: {
    name: 'default',
    trialMs: 1500,
    warmupMs: 500,
    rounds: 7,
    storeClients: [1, 4, 16, 64],
    bigTxClients: [1, 16],
    recoverySizesMiB: [64, 128, 256, 512, 1024],
    recoveryReps: 3,
    harnessMs: 10_000,
    mailMs: 5_000,
  },
  quick: {
    name: 'quick',
    trialMs: 250,
    warmupMs: 100,
    rounds: 3,
    storeClients: [1, 4, 16, 64],
    bigTxClients: [1, 16],
    recoverySizesMiB: [64, 1024],
    recoveryReps: 1,
    harnessMs: 2_000,
    mailMs: 1_500,
  },
  dry: {
    name: 'dry',
    trialMs: 25,
    warmupMs: 5,
    rounds: 2,
    storeClients: [1, 4],
    bigTxClients: [1],
    recoverySizesMiB: [1, 2],
    recoveryReps: 1,
    harnessMs: 300,
    mailMs: 200,
  },
};
