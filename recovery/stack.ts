import type { BlockDevice } from '../src/device/block-device.ts';
import type { LogDisk } from '../src/wal/log-disk.ts';
import { stack } from './compose.ts';
import { logRecovery } from './log-recovery.ts';
import type { RecoveryProcedure } from './procedure.ts';
import { replicatedDiskRecovery } from './replicated-recovery.ts';

/**
 * The store's recovery: the replicated disk's (make the mirrors equal), then the log's
 * over the recovered pair. Built by composition, not by hand: a layer added later brings
 * its own procedure and stacks the same way.
 */
export const storeRecovery: RecoveryProcedure<readonly [BlockDevice, BlockDevice], LogDisk> = stack(replicatedDiskRecovery, logRecovery);
