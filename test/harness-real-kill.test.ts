import { describe, expect, it } from 'vitest';
import { realKill } from '../harness/real-kill/run.ts';

describe('real kills', () => {
  it('a child SIGKILLed at a write point leaves files that recover to a state the history explains', async () => {
    const r = await realKill({ points: [2, 13] });
    expect(r.points).toBeGreaterThan(13);
    expect(r.checked.map((p) => [p.k, p.outcome, p.verdict])).toEqual([
      [2, 'killed', 'ok'],
      [13, 'killed', 'ok'],
    ]);
  });
});
