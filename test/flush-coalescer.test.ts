import { describe, expect, it } from 'vitest';
import { FlushCoalescer } from '../src/replicated/flush-coalescer.ts';

/** A device flush the test finishes by hand: started[i] settles the i-th device flush. */
function manualFlushes() {
  const started: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  const c = new FlushCoalescer(
    () =>
      new Promise<void>((resolve, reject) => {
        started.push({ resolve, reject });
      }),
  );
  return { c, started };
}

const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await null;
  return done;
};

describe('FlushCoalescer', () => {
  it('gives callers that arrive during a flush one shared flush that starts after it', async () => {
    const { c, started } = manualFlushes();
    const a = c.flush();
    const x = c.flush();
    const y = c.flush();
    // x and y called after the first flush started: it may miss their writes, so they wait.
    expect(started).toHaveLength(1);
    started[0].resolve();
    await a;
    await null;
    expect(started).toHaveLength(2);
    expect(await settled(x)).toBe(false);
    started[1].resolve();
    await Promise.all([x, y]);
    expect(c.flushes).toBe(2);
  });

  it('gives one caller after another a flush each', async () => {
    let n = 0;
    const c = new FlushCoalescer(async () => void n++);
    for (let i = 0; i < 5; i++) await c.flush();
    expect(n).toBe(5);
    expect(c.flushes).toBe(5);
  });

  it('rejects the callers of a failed flush and still runs the shared one behind it', async () => {
    const { c, started } = manualFlushes();
    const a = c.flush();
    const x = c.flush();
    started[0].reject(new Error('EIO'));
    await expect(a).rejects.toThrow('EIO');
    await null;
    expect(started).toHaveLength(2);
    started[1].resolve();
    await x;
    // Nothing running: the next caller starts at once.
    const z = c.flush();
    expect(started).toHaveLength(3);
    started[2].resolve();
    await z;
  });
});
