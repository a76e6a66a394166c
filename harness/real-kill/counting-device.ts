import type { DiskLabel, LabelledBlockDevice } from '../../src/device/disk-label.ts';
import { ForwardingLabelledDevice } from '../forwarding-device.ts';

/**
 * Passes every call to a real device, numbering writes (each block of a writev), flushes
 * and label rewrites as write points. `beforePoint(k)` runs before point k reaches the
 * device: the child logs its history there and kills itself at the chosen point.
 */
export class CountingDevice extends ForwardingLabelledDevice {
  readonly #beforePoint: () => void;

  constructor(dev: LabelledBlockDevice, beforePoint: () => void) {
    super(dev);
    this.#beforePoint = beforePoint;
  }
  override async setLabel(label: DiskLabel): Promise<void> {
    this.#beforePoint();
    return this.inner.setLabel(label);
  }
  override async write(addr: number, data: Uint8Array): Promise<void> {
    this.#beforePoint();
    return this.inner.write(addr, data);
  }
  async writev(addr: number, blocks: readonly Uint8Array[]): Promise<void> {
    for (let i = 0; i < blocks.length; i++) await this.write(addr + i, blocks[i]);
  }
  override async flush(): Promise<void> {
    this.#beforePoint();
    return this.inner.flush();
  }
}
