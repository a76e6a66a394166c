import type { BlockDevice } from '../src/device/block-device.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import { procedure, type RecoveryProcedure } from './procedure.ts';

/**
 * The write-ahead log's recovery over any device that holds a formatted log: replay the
 * committed records from the tail, flush, retire them, flush (src/wal/log-replay.ts says
 * why that is idempotent and restartable). `logRecoveryOf` builds the same procedure for
 * a LogDisk subclass, which is how the harness runs a broken variant through the stack.
 */
export function logRecoveryOf(Disk: typeof LogDisk): RecoveryProcedure<BlockDevice, LogDisk> {
  return procedure<BlockDevice, LogDisk>('log', (device) => Disk.open(device));
}

export const logRecovery: RecoveryProcedure<BlockDevice, LogDisk> = logRecoveryOf(LogDisk);
