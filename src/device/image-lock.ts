import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { LockedError } from '../errors.ts';

/**
 * A lock file beside a disk image (`<image>.lock`, holding the owner's pid), so that two
 * processes never write one image at once: two writers would let the mirrors and the log
 * diverge in ways no recovery can explain.
 *
 * Node has no flock(), so the lock is a file that appears only with its pid already in it
 * (a written temporary file, hard-linked into place: link fails if the lock exists), so no
 * opener ever reads an empty lock and takes it for a dead one. A lock whose process is gone
 * (it was killed: a crash leaves the file behind) is stale and is taken over. A lock held by
 * a live process, this one included, is refused with ERR_LOCKED; if that pid was reused by
 * an unrelated process, the message says which file to remove.
 */
export function lockImage(imagePath: string): () => void {
  const lockPath = `${imagePath}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createLock(lockPath)) return () => fs.rmSync(lockPath, { force: true });
    const owner = readOwner(lockPath);
    if (owner !== undefined && isAlive(owner)) {
      throw new LockedError(
        `${imagePath} is in use by process ${owner}${owner === process.pid ? ' (this one: close the other device first)' : ''}; if that process is not twindisk, remove ${lockPath}`,
      );
    }
    breakStale(lockPath, owner);
  }
  throw new LockedError(`could not take ${lockPath}: other processes keep taking it`);
}

/** Creates the lock with this process's pid in it; false if a lock exists. */
function createLock(lockPath: string): boolean {
  const tmp = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}`;
  fs.writeFileSync(tmp, `${process.pid}\n`, { flag: 'wx' });
  try {
    fs.linkSync(tmp, lockPath);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links: create in place (an opener may then see the lock
    // empty for an instant, the one race the link closes).
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') return createInPlace(lockPath);
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function createInPlace(lockPath: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(lockPath, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    fs.writeSync(fd, `${process.pid}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * Removes a stale lock. Two openers may both find it stale; removing by path could then
 * delete the live lock the quicker one just made. So the lock is moved aside first (one
 * rename, which only one opener can make of a given file), and if what was moved is not
 * the stale lock but another opener's live one, it is put back.
 */
function breakStale(lockPath: string, staleOwner: number | undefined): void {
  const aside = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
  try {
    fs.renameSync(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const moved = readOwner(aside);
    if (moved !== staleOwner && moved !== undefined && isAlive(moved)) {
      try {
        fs.linkSync(aside, lockPath);
      } catch (err) {
        // A third opener took the free path in the instant between: it holds the lock now.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  } finally {
    fs.rmSync(aside, { force: true });
  }
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
