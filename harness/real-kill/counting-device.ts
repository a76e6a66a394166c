import type { DiskLabel, LabelledBlockDevice } from '../../src/device/disk-label.ts';

/**
 * Passes every call to a real device, numbering writes (each block of a writev), flushes
 * and label rewrites as write points. `beforePoint(k)` runs before point k reaches the
 * device: the child logs its history there and kills itself at the chosen point.
 */
export class CountingDevice implements LabelledBlockDevice {
  readonly #dev: LabelledBlockDevice;
  readonly #beforePoint: () => void;

  constructor(dev: LabelledBlockDevice, beforePoint: () => void) {
    this.#dev = dev;
    this.#beforePoint = beforePoint;
  }
  get blockSize(): number {
    return this.#dev.blockSize;
  }
  get numBlocks(): number {
    return this.#dev.numBlocks;
  }
  get label(): DiskLabel {
    return this.#dev.label;
  }
  async setLabel(label: DiskLabel): Promise<void> {
    this.#beforePoint();
    return this.#dev.setLabel(label);
  }
  read(addr: number): Promise<Uint8Array> {
    return this.#dev.read(addr);
  }
  async write(addr: number, data: Uint8Array): Promise<void> {
    this.#beforePoint();
    return this.#dev.write(addr, data);
  }
  async writev(addr: number, blocks: readonly Uint8Array[]): Promise<void> {
    for (let i = 0; i < blocks.length; i++) await this.write(addr + i, blocks[i]);
  }
  async flush(): Promise<void> {
    this.#beforePoint();
    return this.#dev.flush();
  }
  close(): Promise<void> {
    return this.#dev.close();
  }
}
