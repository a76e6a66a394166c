export { readBackDisk, runDiskOp, diskTarget } from './disk-target.ts';
export { replicatedRecovery } from './replicated.ts';
