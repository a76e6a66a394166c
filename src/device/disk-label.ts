import type { BlockDevice } from './block-device.ts';

/**
 * What a disk knows about its place in a replicated pair. File devices keep it in their
 * header; other devices may keep it anywhere durable.
 *
 * `epoch` orders the two disks' histories: when one disk fails, the survivor's epoch is
 * raised (durably) before any write that the failed disk misses is acknowledged, and a
 * replacement disk starts below its survivor. On open the disk with the higher epoch is
 * the source of truth, which keeps a disk that comes back with old data from being
 * copied over the one that served while it was gone.
 */
export interface DiskLabel {
  /** Identifies the store: both disks of a pair carry the same id. 32 hex digits. */
  readonly storeId: string;
  /** This disk's place in the pair. */
  readonly index: 0 | 1;
  /** Raised on the survivor each time its peer drops out; see above. */
  readonly epoch: number;
}

/** A device that carries a DiskLabel and can rewrite it durably. */
export interface LabelledBlockDevice extends BlockDevice {
  readonly label: DiskLabel;
  /** Rewrites the label; durable when it resolves. */
  setLabel(label: DiskLabel): Promise<void>;
}

export function isLabelled(dev: BlockDevice): dev is LabelledBlockDevice {
  const d = dev as Partial<LabelledBlockDevice>;
  return typeof d.setLabel === 'function' && typeof d.label === 'object' && d.label !== null;
}
