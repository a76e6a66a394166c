import type { BlockDevice } from '../src/device/block-device.ts';
import type { DiskLabel, LabelledBlockDevice } from '../src/device/disk-label.ts';

/**
 * A device that passes every call to the one below; a wrapper (a mutant's device, the
 * real-kill counter, a user's own layer in the tests) overrides only what it changes.
 * It has no writev on purpose: a wrapper that does not define one is called block by
 * block, so each block stays a write of its own for the wrapper to see.
 */
export class ForwardingDevice<D extends BlockDevice = BlockDevice> implements BlockDevice {
  protected readonly inner: D;
  constructor(inner: D) {
    this.inner = inner;
  }
  get blockSize(): number {
    return this.inner.blockSize;
  }
  get numBlocks(): number {
    return this.inner.numBlocks;
  }
  read(addr: number): Promise<Uint8Array> {
    return this.inner.read(addr);
  }
  write(addr: number, data: Uint8Array): Promise<void> {
    return this.inner.write(addr, data);
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A ForwardingDevice over a labelled device, passing the label through as well. */
export class ForwardingLabelledDevice extends ForwardingDevice<LabelledBlockDevice> implements LabelledBlockDevice {
  get label(): DiskLabel {
    return this.inner.label;
  }
  setLabel(label: DiskLabel): Promise<void> {
    return this.inner.setLabel(label);
  }
}
