/**
 * A process that holds one contender and runs what the parent asks over IPC (setup,
 * trial, teardown). One process per contender is what makes "peak RSS per contender"
 * mean something: in a shared process RSS only ever grows and carries every other
 * contender's heap, loaded modules and page-cache-backed maps.
 */
import type { ContenderSpec } from './contender.ts';
import { buildContender } from './contenders/registry.ts';
import { Scratch } from './tmp.ts';

export type WorkerRequest = { cmd: 'setup' } | { cmd: 'trial'; durationMs: number } | { cmd: 'teardown' };
export type WorkerReply = { ok: true; result?: unknown } | { ok: false; error: string };

const { spec, scratchRoot } = JSON.parse(process.argv[2] ?? '{}') as { spec: ContenderSpec; scratchRoot: string };
const scratch = new Scratch(scratchRoot);
const contender = await buildContender(spec, scratch);

/** Peak RSS of this whole process so far (getrusage reports KiB on Linux). */
const maxRss = () => process.resourceUsage().maxRSS * 1024;

process.on('message', (msg: WorkerRequest) => {
  void (async (): Promise<WorkerReply> => {
    try {
      if (msg.cmd === 'setup') {
        await contender.setup();
        return { ok: true };
      }
      if (msg.cmd === 'trial') {
        const r = await contender.trial(msg.durationMs);
        return { ok: true, result: { ...r, rssPeakBytes: Math.max(r.rssPeakBytes, maxRss()) } };
      }
      await contender.teardown();
      return { ok: true };
    } catch (err) {
      return { ok: false, error: (err as Error).stack ?? String(err) };
    }
  })().then((reply) => {
    process.send!(reply, () => {
      if (msg.cmd === 'teardown') process.exit(0);
    });
  });
});
process.send!({ ok: true, result: 'ready' });
