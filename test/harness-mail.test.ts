import { describe, expect, it } from 'vitest';
import { explore } from '../harness/explore.ts';
import { mutantCatalogue } from '../harness/mutant-catalogue.ts';
import { mailMutants } from '../harness/mutants/mail-mutants.ts';
import { runMutant } from '../harness/suite.ts';
import { mailTarget } from '../harness/targets/mail.ts';
import { defaultTargets } from '../harness/targets/registry.ts';

/** A fast slice of the mail crash check: the default suite runs every model at depth 2. */

describe('mail target', () => {
  it('is in the default suite, opened by the composed recovery replicated-disk > log > mail', () => {
    const t = defaultTargets().find((x) => x.name === 'mail');
    expect(t).toBeDefined();
    expect(t!.recovery.steps).toEqual(['replicated-disk', 'log', 'mail']);
    expect(t!.models).toEqual(['sync', 'buffered', 'torn', 'fail']);
  });

  it('the shipped workload passes at every write point under the synchronous model, recovery crashed once', async () => {
    const t = mailTarget();
    const r = await explore(t, t.workloads[0], { models: ['sync'], depth: 1 });
    expect(r.points).toBeGreaterThan(20);
    expect(r.violations).toEqual([]);
    expect(r.byModel.sync!.states).toBeGreaterThan(r.points);
    expect(r.byModel.sync!.unknown).toBe(0);
  });

  it('every mail mutant is in the catalogue and is caught', async () => {
    expect(mailMutants.length).toBeGreaterThanOrEqual(5);
    for (const m of mailMutants) expect(mutantCatalogue).toContain(m);
    const by: Record<string, string> = {};
    for (const m of mailMutants) {
      const r = await runMutant(m, { seed: 1, depth: 1, models: ['sync'] }, 2);
      expect(r.caught, `${m.name} survived`).toBe(true);
      by[m.name] = r.by!.detail;
    }
    // The two transaction-splitting mutants leave the layout inconsistent: mailFsck in the read-back says so.
    expect(by['mail-index-before-blocks']).toMatch(/MailFsckFailed|not a message head/);
    expect(by['mail-free-before-unindex']).toMatch(/MailFsckFailed: .*free in the bitmap/);
    // The locking mutants are caught by the spec on concurrent clients' results.
    expect(by['mail-pickup-does-not-wait']).toMatch(/impossible in spec state/);
    expect(by['mail-delete-without-lock']).toMatch(/impossible in spec state/);
    // The fan-out split per recipient leaves a message in one mailbox and not the other.
    expect(by['mail-deliver-many-per-recipient']).toMatch(/impossible in spec state/);
  });
});
