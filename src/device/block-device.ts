/**
 * The interface every layer is written against and every layer offers upward.
 *
 * A device has a fixed block size and a fixed number of blocks. Writes are durable only
 * once a later flush() has resolved: until then a crash may lose any of them, per block.
 * A single block write is atomic at block granularity unless a torn-write model says
 * otherwise. A device that has failed (fail-stop) rejects every later call with
 * DeviceFailedError.
 */
export interface BlockDevice {
  /**
   * Optional: true once the device has failed (fail-stop), when every later call rejects.
   * A layer that answers some calls from memory (the log's caches) asks it, so that a store
   * whose disks are gone stops serving everything, not only what reaches a disk.
   */
  readonly failed?: boolean;
  /** Bytes per block; fixed for the life of the device. */
  readonly blockSize: number;
  /** Number of addressable blocks, 0 .. numBlocks-1; fixed for the life of the device. */
  readonly numBlocks: number;
  /** Reads one block. The returned buffer is the caller's own copy. */
  read(addr: number): Promise<Uint8Array>;
  /**
   * Writes one block. The caller must not change `data` until the returned promise
   * settles (as with fs.write); the device keeps no reference to it after that. This lets
   * a layer pass a block down without copying it at every level.
   */
  write(addr: number, data: Uint8Array): Promise<void>;
  /**
   * Optional: writes blocks to addr, addr+1, ... in one call (one system call on files).
   * Not atomic as a whole: a crash may keep any subset of the blocks.
   * Use writeBlocks() to call it on a device that may not have it.
   */
  writev?(addr: number, blocks: readonly Uint8Array[]): Promise<void>;
  /** Durability barrier: every write that resolved before flush() was called is durable when it resolves. */
  flush(): Promise<void>;
  /** Releases the device. Later calls reject with ClosedError. Closing twice is allowed. */
  close(): Promise<void>;
}

/** Writes consecutive blocks, in one call when the device has writev. */
export async function writeBlocks(dev: BlockDevice, addr: number, blocks: readonly Uint8Array[]): Promise<void> {
  if (blocks.length === 0) return;
  if (dev.writev) return dev.writev(addr, blocks);
  for (let i = 0; i < blocks.length; i++) await dev.write(addr + i, blocks[i]);
}
