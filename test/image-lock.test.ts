import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lockImage } from '../src/device/image-lock.ts';
import { tmpDir } from './helpers/tmp.ts';

/**
 * Two openers of one image must never both hold its lock. The second opener is run at
 * every file-system call the first one makes (just before that call), as another process
 * could be; at most one of the two may come out holding the lock.
 */
const FS_CALLS = ['openSync', 'writeSync', 'closeSync', 'readFileSync', 'rmSync', 'linkSync', 'writeFileSync', 'renameSync', 'unlinkSync'] as const;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0)) await c();
});

/** Runs lockImage with `second` run before its k-th fs call; returns [first held, second held, calls seen]. */
function interleave(image: string, k: number, second: () => boolean): [boolean, boolean, number] {
  let calls = 0;
  let secondHeld = false;
  let inSecond = false;
  for (const name of FS_CALLS) {
    const real = (fs as unknown as Record<string, (...a: unknown[]) => unknown>)[name].bind(fs);
    vi.spyOn(fs as unknown as Record<string, (...a: unknown[]) => unknown>, name).mockImplementation((...args: unknown[]) => {
      if (!inSecond && calls++ === k) {
        inSecond = true;
        try {
          secondHeld = second();
        } finally {
          inSecond = false;
        }
      }
      return real(...args);
    });
  }
  let firstHeld = false;
  try {
    lockImage(image);
    firstHeld = true;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_LOCKED') throw err;
  }
  vi.restoreAllMocks();
  return [firstHeld, secondHeld, calls];
}

describe('image lock', () => {
  /** Races two openers at every fs call of the first, each time from `setup`'s state. */
  async function raceEverywhere(setup: (image: string) => void): Promise<void> {
    const t = tmpDir();
    cleanups.push(t.cleanup);
    const image = path.join(t.dir, 'disk.img');
    const tryLock = () => {
      try {
        lockImage(image);
        return true;
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_LOCKED') throw err;
        return false;
      }
    };
    const reset = () => {
      for (const f of fs.readdirSync(t.dir)) fs.rmSync(path.join(t.dir, f));
      setup(image);
    };
    // How many fs calls the first opener makes when nobody races it.
    reset();
    const [alone, , points] = interleave(image, Infinity, tryLock);
    expect(alone).toBe(true);
    let raced = 0;
    for (let k = 0; k < points; k++) {
      reset();
      const [first, second] = interleave(image, k, tryLock);
      expect(first && second, `second opener run before fs call ${k}: both hold the lock`).toBe(false);
      expect(first || second, `second opener run before fs call ${k}: neither holds the lock`).toBe(true);
      raced++;
    }
    expect(raced).toBeGreaterThan(1);
  }

  it('is held by at most one of two openers racing at any file-system call', async () => {
    await raceEverywhere(() => undefined);
  });

  it('is held by at most one of two openers that both find a stale lock (its process died)', async () => {
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    expect(Number.isSafeInteger(dead) && dead > 0).toBe(true);
    await raceEverywhere((image) => fs.writeFileSync(`${image}.lock`, `${dead}\n`));
  });
});
