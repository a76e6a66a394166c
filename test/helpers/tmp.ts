import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary directory and a function that removes it. */
export function tmpDir(prefix = 'twindisk-test-'): { dir: string; cleanup: () => Promise<void> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A block of `size` bytes whose content is determined by `seed`. */
export function pattern(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (seed * 131 + i * 17 + (seed >> 8)) & 0xff;
  return b;
}
