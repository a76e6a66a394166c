import type { BlockDevice } from '../src/device/block-device.ts';

export interface ResyncProgress {
  /** Blocks compared so far. */
  done: number;
  total: number;
  /** Blocks that differed and were copied. */
  copied: number;
}

export interface ResyncOptions {
  /** Called every `progressEvery` blocks and at the end. */
  onProgress?: (p: ResyncProgress) => void;
  progressEvery?: number;
  /** Run each block's compare-and-copy inside this (the replicated disk passes its address lock). */
  withLock?: <T>(addr: number, fn: () => Promise<T>) => Promise<T>;
  /** First address to compare (0 unless given): openStore copies block 0 itself, last. */
  start?: number;
}

/**
 * Makes `dst` equal to `src`, block by block, copying only blocks that differ, then
 * flushes `dst`. Returns how many blocks were copied.
 *
 * Why this is a correct recovery for the mirror: a crash between a write's two halves
 * leaves the disks different only where a write was in flight, and `src` (disk 0, or the
 * disk with the higher epoch) holds either the old or the new value of that write, both
 * of which the spec allows; copying it to `dst` makes that choice final. The pass is
 * idempotent (a second run finds nothing to copy) and restartable (a crash part way
 * leaves `src` untouched, so the next run copies the same values).
 */
export async function resync(src: BlockDevice, dst: BlockDevice, options: ResyncOptions = {}): Promise<number> {
  const total = src.numBlocks;
  const every = options.progressEvery ?? 4096;
  const run = options.withLock ?? (<T>(_addr: number, fn: () => Promise<T>) => fn());
  let copied = 0;
  for (let addr = options.start ?? 0; addr < total; addr++) {
    await run(addr, async () => {
      const [a, b] = await Promise.all([src.read(addr), dst.read(addr)]);
      if (!sameBytes(a, b)) {
        await dst.write(addr, a);
        copied++;
      }
    });
    if (options.onProgress && (addr + 1) % every === 0) options.onProgress({ done: addr + 1, total, copied });
  }
  await dst.flush();
  options.onProgress?.({ done: total, total, copied });
  return copied;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
