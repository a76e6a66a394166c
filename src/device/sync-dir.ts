import fs from 'node:fs';

/**
 * Makes a directory's entries durable (a file created or renamed in it survives a crash
 * right after). Some filesystems refuse fsync on a directory; there the files themselves
 * were synced, which is the best that can be done.
 */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // See above: not fatal.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
