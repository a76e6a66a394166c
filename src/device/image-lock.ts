import fs from 'node:fs';
import { LockedError } from '../errors.ts';

/**
 * A lock file beside a disk image (`<image>.lock`, holding the owner's pid), so that two
 * processes never write one image at once: two writers would let the mirrors and the log
 * diverge in ways no recovery can explain.
 *
 * Node has no flock(), so the lock is a file created with O_EXCL. A lock whose process is
 * gone (it was killed: a crash leaves the file behind) is stale and is taken over. A lock
 * held by a live process, this one included, is refused with ERR_LOCKED; if that pid was
 * reused by an unrelated process, the message says which file to remove.
 */
export function lockImage(imagePath: string): () => void {
  const lockPath = `${imagePath}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      try {
        fs.writeSync(fd, `${process.pid}\n`);
      } finally {
        fs.closeSync(fd);
      }
      return () => fs.rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(lockPath);
    if (owner !== undefined && isAlive(owner)) {
      throw new LockedError(
        `${imagePath} is in use by process ${owner}${owner === process.pid ? ' (this one: close the other device first)' : ''}; if that process is not twindisk, remove ${lockPath}`,
      );
    }
    // Stale: its owner was killed. Another opener may race us here; O_EXCL decides.
    fs.rmSync(lockPath, { force: true });
  }
  throw new LockedError(`could not take ${lockPath}: other processes keep taking it`);
}

function readOwner(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
