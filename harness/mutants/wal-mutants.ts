import type { LogRecord, TailPointer } from '../../src/wal/log-format.ts';
import { LogDisk, type InstallCut, type LogEnd } from '../../src/wal/log-disk.ts';
import { LogReplay, type ScannedRecord } from '../../src/wal/log-replay.ts';
import { stackTarget, transactionalTarget } from '../targets/transactional.ts';
import type { Mutant } from './mutant.ts';

/** Group commit acknowledges before the commit flush: the flush is started, not awaited. */
class AckBeforeFlush extends LogDisk {
  protected override flushLog(): Promise<void> {
    void super.flushLog().catch(() => undefined);
    return Promise.resolve();
  }
}

/** Record headers are written and flushed before the record's data blocks. */
class HeaderBeforeData extends LogDisk {
  protected override async appendRecords(records: readonly LogRecord[]): Promise<void> {
    for (const r of records) await this.writeLog(r.pos, [r.header]);
    await this.device.flush();
    for (const r of records) if (r.blocks.length) await this.writeLog(r.pos + 1, r.blocks);
  }
}

/** Install writes the new tail (retiring the log) before the installed blocks are flushed. */
class RetireBeforeInstallFlush extends LogDisk {
  protected override async install(cut: InstallCut): Promise<void> {
    await this.writeHome(cut.blocks);
    await this.writeTailPointer(cut.tail);
    await this.device.flush();
  }
}

/** Log recovery retires the records before replaying them: not restartable. */
class RetireFirstReplay extends LogReplay {
  override async run(): Promise<TailPointer> {
    const tail = await (await import('../../src/wal/log-format.ts')).readTail(this.device, this.layout);
    const records = await this.scan(tail);
    const next = this.nextTail(tail, records);
    await this.retire(next);
    await this.replay(records);
    await this.device.flush();
    return next;
  }
}
class NonIdempotentRecovery extends LogDisk {
  static override Replay = RetireFirstReplay;
}

/** Log recovery accepts a record whose checksum does not match (only the seq is checked). */
class TrustingReplay extends LogReplay {
  protected override accept(rec: ScannedRecord, expectedSeq: number): boolean {
    return rec.header.seq === expectedSeq;
  }
}
/** An acknowledged group lets installs retire up to the head, past a later group still being flushed. */
class RetireUnflushedGroup extends LogDisk {
  protected override committedEnd(_group: LogEnd, head: LogEnd): LogEnd {
    return head;
  }
}

class ReplayPastBadChecksum extends LogDisk {
  static override Replay = TrustingReplay;
}

const wal = (name: string, change: string, Disk: typeof LogDisk, onStack = false): Mutant => ({
  name,
  layer: 'wal',
  change,
  target: () => (onStack ? stackTarget(Disk, `stack~${name}`) : transactionalTarget(Disk, `transactional~${name}`)),
});

/**
 * Equivalent under our models: a header made durable before its data fails its checksum
 * after a crash, so recovery stops there and the (unacknowledged) transaction is simply
 * absent. The checksum is what makes this order safe; see wal-replay-bad-checksum.
 */
export const equivalentWalMutants: Mutant[] = [wal('wal-header-before-data', 'record headers made durable before the data blocks', HeaderBeforeData)];

export const walMutants: Mutant[] = [
  wal('wal-ack-before-flush', 'group commit acknowledges before its flush', AckBeforeFlush),
  wal('wal-retire-before-install-flush', 'install moves the tail before the installed blocks are flushed', RetireBeforeInstallFlush),
  wal('wal-recovery-not-idempotent', 'log recovery retires the records before replaying them', NonIdempotentRecovery),
  wal('wal-replay-bad-checksum', 'log recovery replays a record whose checksum fails', ReplayPastBadChecksum),
  wal('wal-retire-unflushed-group', 'an acknowledged group lets installs retire a later group whose flush is still running', RetireUnflushedGroup),
  wal('stack-wal-ack-before-flush', 'the same ack-before-flush, checked through the whole stack', AckBeforeFlush, true),
];
