import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TSX_LOADER } from '../isolated.ts';
import type { Profile } from '../profile.ts';
import type { RecoveryPoint, RecoveryResult } from '../results.ts';
import { spread } from '../rounds.ts';
import type { Scratch } from '../tmp.ts';
import type { Progress } from '../run-group.ts';
import type { OpenStore } from './store-api.ts';
import { BLOCK_SIZE } from '../workload.ts';
import { RESERVED_BLOCKS } from '../../src/wal/log-format.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('../crash-child.ts', import.meta.url));
const RECOVER_CHILD = fileURLToPath(new URL('../recover-child.ts', import.meta.url));
const LOG_BLOCKS = 1024;

/** Runs the crash child until it has committed `readyAfter` transactions, then SIGKILLs it mid-write. */
async function crashChild(args: { dir: string; numBlocks: number; logBlocks: number; clients: number; readyAfter: number }): Promise<void> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CHILD, JSON.stringify(args)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<boolean>((resolve) => {
    child.stdout.on('data', (d) => {
      if (String(d).includes('ready')) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  if (!(await ready)) throw new Error(`crash child exited before it was ready: ${stderr.trim().slice(-500)}`);
  // Let it get well into the next group commits, so the kill lands mid-write.
  await new Promise((r) => setTimeout(r, 30));
  child.kill('SIGKILL');
  await exited;
}

/** Times openStore() on the crashed store in a fresh process; returns seconds and that process's peak RSS. */
async function recoverChild(args: { dir: string; numBlocks: number; logBlocks: number }): Promise<{ seconds: number; rssPeakBytes: number }> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, RECOVER_CHILD, JSON.stringify(args)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`recovery failed: ${stderr.trim().slice(-800)}`);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { seconds: number; rssPeakBytes: number };
}

/**
 * Recovery time against store size: for each size, a child process writes to the store
 * and is killed with SIGKILL, then a fresh child times openStore() on the files it left
 * (the composed recovery: replicated-disk resync, then log replay). Repeated `reps` times
 * per size on the same store.
 */
export async function measureRecovery(scratch: Scratch, openStore: OpenStore | undefined, profile: Profile, progress: Progress): Promise<RecoveryResult> {
  if (!openStore) {
    return { status: 'missing', detail: 'the transactional store (src/store/open-store.ts) is not in the tree yet', points: [] };
  }
  const points: RecoveryPoint[] = [];
  try {
    for (const sizeMiB of profile.recoverySizesMiB) {
      // The size is the whole disk image: data, plus the log and the log's reserved blocks.
      const totalBlocks = (sizeMiB * 2 ** 20) / BLOCK_SIZE;
      const logBlocks = Math.min(LOG_BLOCKS, totalBlocks / 4);
      const numBlocks = totalBlocks - logBlocks - RESERVED_BLOCKS;
      const dir = scratch.path(`recovery-${sizeMiB}MiB`);
      const samples: number[] = [];
      let rssPeakBytes = 0;
      for (let rep = 0; rep < profile.recoveryReps; rep++) {
        progress(`  recovery ${sizeMiB} MiB rep ${rep + 1}/${profile.recoveryReps}: crashing a writer…`);
        await crashChild({ dir, numBlocks, logBlocks, clients: 16, readyAfter: profile.name === 'dry' ? 5 : 200 });
        const r = await recoverChild({ dir, numBlocks, logBlocks });
        samples.push(r.seconds);
        rssPeakBytes = Math.max(rssPeakBytes, r.rssPeakBytes);
        progress(`  recovery ${sizeMiB} MiB rep ${rep + 1}/${profile.recoveryReps}: ${r.seconds.toFixed(2)} s`);
      }
      points.push({ sizeMiB, diskBlocks: totalBlocks, dataBlocks: numBlocks, samples, seconds: spread(samples), rssPeakBytes });
    }
  } catch (err) {
    return { status: 'failed', detail: `recovery benchmark failed: ${(err as Error).message}`, points };
  }
  return {
    status: 'measured',
    detail:
      'sizes are per disk (two disk images each); files are sparse where never written and the page cache is warm, so this is the CPU and syscall cost of the full mirror scan, not cold-disk reads; peak RSS is that of the recovering process',
    points,
  };
}
