import { describe, expect, it } from 'vitest';
import { compose, stack } from '../recovery/compose.ts';
import { procedure } from '../recovery/procedure.ts';

/**
 * Composition of recovery procedures: lowest layer first, names and steps joined, and a
 * failed recovery closes the layer already opened under it (so a failed open does not leak
 * file handles), reporting the recovery's error, not a close error.
 */
class Layer {
  closed = 0;
  constructor(readonly name: string, readonly below: unknown, readonly closeFails = false) {}
  async close(): Promise<void> {
    this.closed++;
    if (this.closeFails) throw new Error(`closing ${this.name} failed`);
  }
}

describe('compose and stack', () => {
  it('runs the lower procedure first and hands its result to the upper one', async () => {
    const order: string[] = [];
    const lower = procedure<string, Layer>('lower', async (dev) => (order.push('lower'), new Layer('lower', dev)));
    const upper = procedure<Layer, Layer>('upper', async (l) => (order.push('upper'), new Layer('upper', l)));
    const both = compose(lower, upper);
    expect(both.name).toBe('lower > upper');
    expect(both.steps).toEqual(['lower', 'upper']);
    const top = await both.recover('device');
    expect(order).toEqual(['lower', 'upper']);
    expect(top.name).toBe('upper');
    expect((top.below as Layer).below).toBe('device');
    expect((top.below as Layer).closed).toBe(0);
  });

  it('closes the layer below a failed recovery (which owns the ones under it), and reports the recovery error', async () => {
    const opened: Layer[] = [];
    const open = (name: string, closeFails = false) =>
      procedure<unknown, Layer>(name, async (below) => {
        const l = new Layer(name, below, closeFails);
        opened.push(l);
        return l;
      });
    const boom = new Error('recovery failed');
    const failing = procedure<Layer, Layer>('broken', async () => {
      throw boom;
    });
    // The top recovery fails: the layer under it is closed once, even though its close fails;
    // closing what that layer opened below is its own close()'s job, as LogDisk closes its device.
    const s = stack(open('a'), open('b', true), failing);
    expect(s.name).toBe('a > b > broken');
    expect(s.steps).toEqual(['a', 'b', 'broken']);
    await expect(s.recover('device')).rejects.toBe(boom);
    expect(opened.map((l) => [l.name, l.closed])).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
    // A middle recovery fails: the bottom layer is closed and the top one never runs.
    opened.length = 0;
    const s2 = stack(open('a'), failing, open('c'));
    await expect(s2.recover('device')).rejects.toBe(boom);
    expect(opened.map((l) => [l.name, l.closed])).toEqual([['a', 1]]);
  });

  it('refuses an empty stack', () => {
    expect(() => (stack as (...ps: unknown[]) => unknown)()).toThrow(TypeError);
  });
});
