import { resync } from '../../recovery/resync.ts';
import type { BlockDevice } from '../../src/device/block-device.ts';
import type { LabelledBlockDevice } from '../../src/device/disk-label.ts';
import { DeviceFailedError } from '../../src/errors.ts';
import { ReplicatedDisk, type ReplicatedOpenOptions } from '../../src/replicated/replicated-disk.ts';
import { procedure } from '../../recovery/procedure.ts';
import { ForwardingLabelledDevice } from '../forwarding-device.ts';
import { replicatedTarget } from '../targets/replicated.ts';
import type { Target } from '../target.ts';
import type { Mutant } from './mutant.ts';

/** A ReplicatedDisk that keeps its two devices where a broken variant can reach them. */
class Exposed extends ReplicatedDisk {
  protected devs!: [BlockDevice, BlockDevice];
  protected constructor(d0: BlockDevice, d1: BlockDevice) {
    super(d0, d1);
    this.devs = [d0, d1];
  }
}

/** Recovery does nothing: mirrors left different by a crash stay different. */
class NoRecovery extends Exposed {
  protected override async recover(): Promise<void> {}
}

/** Recovery always copies disk 1 onto disk 0, whatever the epochs say. */
class WrongWayRecovery extends Exposed {
  protected override recover(_source: 0 | 1, options: ReplicatedOpenOptions): Promise<void> {
    return super.recover(1, options);
  }
}

/** Recovery always takes disk 0 as the source, ignoring a higher epoch on disk 1. */
class IgnoreEpochRecovery extends Exposed {
  protected override recover(_source: 0 | 1, options: ReplicatedOpenOptions): Promise<void> {
    return super.recover(0, options);
  }
}

/** Off-by-one in the resync loop: the last block is never compared. */
class SkipLastBlockRecovery extends Exposed {
  protected override async recover(): Promise<void> {
    const [src, dst] = this.devs;
    try {
      for (let a = 0; a < src.numBlocks - 1; a++) {
        const b = await src.read(a);
        await dst.write(a, b);
      }
      await dst.flush();
    } catch (err) {
      if (!(err instanceof DeviceFailedError)) throw err;
    }
  }
}

/** write() runs the two-disk write without taking the address lock. */
class UnlockedWrite extends Exposed {
  override async write(addr: number, data: Uint8Array): Promise<void> {
    return this.writeLocked(addr, [new Uint8Array(data)]);
  }
}

/** flush() flushes disk 0 only: disk 1 may still lose acknowledged, flushed writes. */
class FlushDisk0Only extends Exposed {
  override async flush(): Promise<void> {
    await this.devs[0].flush();
  }
}

/** Reads disk 1 first (falls back to disk 0). */
class ReadPrefersDisk1 extends Exposed {
  protected override async readLocked(addr: number): Promise<Uint8Array> {
    try {
      return await this.devs[1].read(addr);
    } catch (err) {
      if (!(err instanceof DeviceFailedError)) throw err;
      return this.devs[0].read(addr);
    }
  }
}

/** Passes every call through but drops label rewrites: the survivor's epoch is never raised. */
class ForgetfulLabel extends ForwardingLabelledDevice {
  override async setLabel(): Promise<void> {}
}

function withDisk(Disk: typeof ReplicatedDisk, name: string): Target {
  return { ...replicatedTarget(Disk as typeof ReplicatedDisk, `replicated~${name}`) };
}

/**
 * Changes that look wrong but are not bugs under our models (equivalent mutants), kept
 * so the finding stays on record and can be re-run: reading disk 1 first is safe because
 * the address lock keeps a reader from seeing the mirrors mid-write and recovery makes
 * them equal before anything is served.
 */
export const equivalentReplicatedMutants: Mutant[] = [
  { name: 'rd-read-prefers-disk1', layer: 'replicated', change: 'reads disk 1 first', target: () => withDisk(ReadPrefersDisk1, 'read-prefers-disk1') },
];

export const replicatedMutants: Mutant[] = [
  { name: 'rd-recovery-noop', layer: 'replicated', change: 'recover() does nothing', target: () => withDisk(NoRecovery, 'recovery-noop') },
  {
    name: 'rd-recovery-wrong-way',
    layer: 'replicated',
    change: 'recovery copies disk 1 onto disk 0 regardless of epochs',
    target: () => withDisk(WrongWayRecovery, 'recovery-wrong-way'),
  },
  {
    name: 'rd-recovery-ignores-epoch',
    layer: 'replicated',
    change: 'recovery always takes disk 0 as the source',
    target: () => withDisk(IgnoreEpochRecovery, 'recovery-ignores-epoch'),
  },
  {
    name: 'rd-recovery-skips-last-block',
    layer: 'replicated',
    change: 'the resync loop stops one block short',
    target: () => withDisk(SkipLastBlockRecovery, 'recovery-skips-last-block'),
  },
  { name: 'rd-write-without-lock', layer: 'replicated', change: 'write() skips the per-address lock', target: () => withDisk(UnlockedWrite, 'write-without-lock') },
  { name: 'rd-flush-disk0-only', layer: 'replicated', change: 'flush() flushes disk 0 only', target: () => withDisk(FlushDisk0Only, 'flush-disk0-only') },
  {
    name: 'rd-epoch-never-raised',
    layer: 'replicated',
    change: 'label rewrites are dropped, so a survivor never raises its epoch',
    target: () => {
      const t = replicatedTarget(ReplicatedDisk, 'replicated~epoch-never-raised');
      return {
        ...t,
        recovery: procedure<BlockDevice[], ReplicatedDisk>('replicated-disk~forgetful-label', ([d0, d1]) =>
          ReplicatedDisk.open(new ForgetfulLabel(d0 as LabelledBlockDevice), new ForgetfulLabel(d1 as LabelledBlockDevice)),
        ),
      };
    },
  },
];
