import type { BlockDevice } from '../src/device/block-device.ts';
import { ReplicatedDisk } from '../src/replicated/replicated-disk.ts';
import { procedure } from './procedure.ts';

/**
 * The replicated disk's recovery as a composable procedure: check that the two disks
 * belong together, then copy the source mirror onto the other wherever they differ (see
 * recovery/resync.ts for why that is correct, idempotent and restartable).
 */
export const replicatedDiskRecovery = procedure<readonly [BlockDevice, BlockDevice], ReplicatedDisk>('replicated-disk', ([d0, d1]) =>
  ReplicatedDisk.open(d0, d1),
);
