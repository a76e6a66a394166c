import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A scratch directory for one run. The default is the OS temp dir (/tmp here), which on
 * this VM is the same ext4 volume as /work, so figures are durable-disk figures, not tmpfs.
 */
export class Scratch {
  readonly root: string;
  #n = 0;

  constructor(base = process.env.TWINDISK_BENCH_DIR ?? tmpdir()) {
    this.root = mkdtempSync(join(base, 'twindisk-bench-'));
  }

  /** A fresh path (not created) inside the scratch directory. */
  path(name: string): string {
    return join(this.root, `${String(this.#n++).padStart(3, '0')}-${name}`);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
