import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Contender, TrialResult } from './contender.ts';
import type { WorkerReply, WorkerRequest } from './worker.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** tsx's loader, resolved from here so that children find it whatever the working directory. */
export const TSX_LOADER = import.meta.resolve('tsx');

/**
 * The same contender, run in a child process of its own (spawned when this is called), trials
 * are requests over IPC (the child times them itself, so IPC is outside the timed loop),
 * teardown ends it. Requests are strictly one at a time, so replies need no ids.
 */
export function isolated(c: Contender, scratchRoot: string): Contender {
  if (!c.spec) return c;
  const spec = c.spec;
  let child: ChildProcess | undefined;
  let stderr = '';
  let waiting: ((r: WorkerReply) => void) | undefined;
  let exitError: Error | undefined;

  // Replies that arrive while nobody waits (a worker's "ready" while another contender is set up).
  const inbox: WorkerReply[] = [];
  const deliver = (r: WorkerReply) => {
    const w = waiting;
    waiting = undefined;
    if (w) w(r);
    else inbox.push(r);
  };
  const request = (req: WorkerRequest | undefined): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const settle = (r: WorkerReply) => (r.ok ? resolve(r.result) : reject(new Error(`${c.id}: ${r.error}`)));
      if (!req && inbox.length > 0) return settle(inbox.shift()!);
      if (exitError) return reject(exitError);
      waiting = settle;
      if (req) child!.send(req);
    });

  // Spawned at once, so that the workers of a group load their modules in parallel; setup waits for "ready".
  child = spawn(process.execPath, ['--import', TSX_LOADER, WORKER, JSON.stringify({ spec, scratchRoot })], {
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  child.stderr!.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
  child.on('message', deliver);
  child.on('exit', (code, signal) => {
    exitError = new Error(`${c.id}: worker exited (${signal ?? code}) ${stderr.trim().slice(-1500)}`);
    deliver({ ok: false, error: exitError.message });
  });

  return {
    ...c,
    async setup() {
      await request(undefined); // the worker's "ready"
      await request({ cmd: 'setup' });
    },
    async trial(durationMs) {
      return (await request({ cmd: 'trial', durationMs })) as TrialResult;
    },
    async teardown() {
      if (!child) return;
      const exited = new Promise((r) => child!.once('exit', r));
      if (child.exitCode === null && child.signalCode === null) {
        await request({ cmd: 'teardown' }).catch(() => child?.kill('SIGKILL'));
        await exited;
      }
      child = undefined;
    },
  };
}
