/**
 * The mail store benchmark, after Mailboat's: each request delivers one message to a user,
 * then picks up that user's mailbox, deletes what it read, and unlocks. `clients`
 * requests run at once, each client on its own user (so the figure measures the store, not
 * waiting for a mailbox lock). On memory devices (a MemBlockDevice pair under openStore)
 * and on files (openStore over a directory). Prints requests/s, median of a few rounds.
 *
 *   npx tsx bench/mail-bench.ts [--devices mem|file|both] [--seconds S] [--rounds N] [--clients C] [--ceiling]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { openMailData } from '../src/mail/mail-data.ts';

export interface MailBenchOptions {
  /** 'mem', 'file', or both (default). */
  devices?: 'mem' | 'file' | 'both';
  /** Length of one round (default 2 s); `durationMs` is accepted too (bench helper), split over the rounds. */
  seconds?: number;
  durationMs?: number;
  /** Rounds per device kind; the median is reported (default 3). */
  rounds?: number;
  /** Concurrent clients (default 32). */
  clients?: number;
  /** Message size in bytes (default 200). */
  messageBytes?: number;
  /**
   * Also measure the store alone doing the same transaction shapes per request (a 3-block
   * read-modify-write, a 5-block read-only, a 2-block read-modify-write), without any mail
   * logic: the ceiling the mail layer can approach. Default false.
   */
  ceiling?: boolean;
  /** Directory for the file-backed run (a temporary one if absent). */
  dir?: string;
  dry?: boolean;
}

export interface MailBenchFigure {
  devices: 'mem' | 'file';
  requestsPerSec: number;
  /**
   * Requests per second of this process's CPU time (user + system), median over rounds:
   * what one dedicated core would do, a steadier figure than wall time on a shared machine.
   */
  requestsPerCpuSec: number;
  rounds: number[];
  requests: number;
  seconds: number;
  /** Same-shape store-only requests per second (median), when asked for. */
  storeCeilingPerSec?: number;
}

export interface MailBenchResult {
  /** The headline figure: memory devices if measured, else files. */
  requestsPerSec: number;
  mem?: MailBenchFigure;
  file?: MailBenchFigure;
  clients: number;
  messageBytes: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function runKind(kind: 'mem' | 'file', o: Required<Pick<MailBenchOptions, 'rounds' | 'clients' | 'messageBytes' | 'ceiling'>> & { roundMs: number; dir?: string }): Promise<MailBenchFigure> {
  const tmp = kind === 'file' ? (o.dir ?? mkdtempSync(path.join(tmpdir(), 'twindisk-mail-bench-'))) : undefined;
  const numBlocks = 32768;
  const { store, disk, close } = await openMailData(
    kind === 'mem'
      ? { devices: [new MemBlockDevice({ numBlocks }), new MemBlockDevice({ numBlocks })], maxUsers: Math.max(64, o.clients) }
      : { dir: path.join(tmp!, `store-${process.pid}-${Date.now()}`), numBlocks, maxUsers: Math.max(64, o.clients) },
  );
  try {
    const users = Array.from({ length: o.clients }, (_, i) => `user${i}`);
    for (const u of users) await store.addUser(u);
    const message = Buffer.alloc(o.messageBytes, 0x61);
    const request = async (u: string) => {
      await store.deliver(u, message);
      const got = await store.pickup(u);
      for (const m of got) await store.delete(u, m.id);
      store.unlock(u);
    };
    const round = async (ms: number, req: (u: string, i: number) => Promise<void> = request) => {
      let count = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const end = t0 + ms;
      await Promise.all(
        users.map(async (u, i) => {
          while (performance.now() < end) {
            await req(u, i);
            count++;
          }
        }),
      );
      const cpu = process.cpuUsage(cpu0);
      return { count, seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
    };
    await round(Math.min(300, o.roundMs)); // warm-up: JIT, first allocations
    const rates: number[] = [];
    const cpuRates: number[] = [];
    let requests = 0;
    let seconds = 0;
    for (let i = 0; i < o.rounds; i++) {
      const r = await round(o.roundMs);
      rates.push(r.count / r.seconds);
      cpuRates.push(r.count / r.cpuSeconds);
      requests += r.count;
      seconds += r.seconds;
    }
    const figure: MailBenchFigure = { devices: kind, requestsPerSec: median(rates), requestsPerCpuSec: median(cpuRates), rounds: rates, requests, seconds };
    if (o.ceiling) {
      // Blocks past the mail store's metadata, one private range per client: no conflicts.
      const base = store.geometry.dataStart + Math.floor((disk.numBlocks - store.geometry.dataStart) / 2);
      // With the copy rules the mail store uses: one private copy per block it modifies
      // (read(), then given up with writeOwned), no copy for what it only reads (readShared).
      const rmw = async (a: number, n: number) =>
        disk.transaction(async (tx) => {
          for (let j = 0; j < n; j++) tx.writeOwned(a + j, await tx.read(a + j));
        });
      const storeOnly = async (_u: string, i: number) => {
        const a = base + i * 8;
        await rmw(a, 3);
        await disk.transaction(async (tx) => {
          for (let j = 0; j < 5; j++) await tx.readShared(a + j);
        });
        await rmw(a, 2);
      };
      const cr: number[] = [];
      for (let i = 0; i < o.rounds; i++) {
        const r = await round(o.roundMs, storeOnly);
        cr.push(r.count / r.seconds);
      }
      figure.storeCeilingPerSec = median(cr);
    }
    return figure;
  } finally {
    await close();
    if (tmp && !o.dir) rmSync(tmp, { recursive: true, force: true });
  }
}

export async function runMailBench(options: MailBenchOptions = {}): Promise<MailBenchResult> {
  const rounds = options.rounds ?? (options.dry ? 1 : 3);
  const clients = options.clients ?? 32;
  const messageBytes = options.messageBytes ?? 200;
  const kinds: ('mem' | 'file')[] = options.devices === 'mem' ? ['mem'] : options.devices === 'file' ? ['file'] : ['mem', 'file'];
  const totalMs = options.seconds !== undefined ? options.seconds * 1000 * rounds * kinds.length : (options.durationMs ?? 2000 * rounds * kinds.length);
  const roundMs = Math.max(50, totalMs / rounds / kinds.length);
  const out: MailBenchResult = { requestsPerSec: 0, clients, messageBytes };
  const ceiling = options.ceiling ?? false;
  for (const kind of kinds) out[kind] = await runKind(kind, { rounds, clients, messageBytes, ceiling, roundMs, dir: options.dir });
  out.requestsPerSec = (out.mem ?? out.file)!.requestsPerSec;
  return out;
}

export default runMailBench;

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('mail-bench.ts')) {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: 'both' },
      seconds: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '3' },
      clients: { type: 'string', default: '32' },
      'message-bytes': { type: 'string', default: '200' },
      ceiling: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: npx tsx bench/mail-bench.ts [--devices mem|file|both] [--seconds S per round] [--rounds N] [--clients C] [--message-bytes B] [--ceiling]');
    process.exit(0);
  }
  const r = await runMailBench({
    devices: values.devices as 'mem' | 'file' | 'both',
    seconds: Number(values.seconds),
    rounds: Number(values.rounds),
    clients: Number(values.clients),
    messageBytes: Number(values['message-bytes']),
    ceiling: values.ceiling,
  });
  for (const f of [r.mem, r.file]) {
    if (!f) continue;
    console.log(`mail ${f.devices}: ${Math.round(f.requestsPerSec)} requests/s (median of ${f.rounds.map((x) => Math.round(x)).join(', ')}; ${Math.round(f.requestsPerCpuSec)} per CPU-second; ${r.clients} clients, ${r.messageBytes}-byte messages; request = deliver + pickup + delete + unlock)`);
    if (f.storeCeilingPerSec !== undefined) console.log(`  store alone, same transaction shapes: ${Math.round(f.storeCeilingPerSec)} requests/s (the ceiling for the mail layer on this run)`);
  }
}
