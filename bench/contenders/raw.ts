import { closeSync, fdatasync, openSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Contender, Group } from '../contender.ts';
import { blockWriteLoop, closedLoop } from '../measure.ts';
import type { Scratch } from '../tmp.ts';
import { BLOCK_SIZE, payload, workloadBlocks, stripes, txAddresses } from '../workload.ts';

const fdatasyncAsync = promisify(fdatasync);


/** A file filled with zeros and made durable, so that timed writes overwrite allocated blocks. */
function preallocated(path: string, blocks: number): number {
  const fd = openSync(path, 'w+');
  const chunk = Buffer.alloc(BLOCK_SIZE * 256);
  for (let b = 0; b < blocks; b += 256) writeSync(fd, chunk, 0, Math.min(256, blocks - b) * BLOCK_SIZE, b * BLOCK_SIZE);
  return fd;
}

/**
 * The raw limit: one 4 KiB positional write per file, then fdatasync of every file, per
 * operation. The same I/O style as FileBlockDevice: synchronous positional writes (a
 * page-cache copy, microseconds) and an asynchronous fdatasync on libuv's thread pool,
 * so that several clients' syncs can be in flight at once. Nothing is shared between
 * operations: each pays its own fdatasync, which is what "the limit" means here.
 */
export function rawContender(scratch: Scratch, files: 1 | 2, clients: number): Contender {
  let fds: number[] = [];
  const rawBlocks = workloadBlocks();
  const s = stripes(clients, rawBlocks);
  return {
    id: `raw.${files}file.c${clients}`,
    label: `raw ${files} file${files > 1 ? 's' : ''}, ${clients === 1 ? 'serial' : `${clients} in flight`}`,
    kind: 'limit',
    clients,
    spec: { type: 'raw', files, clients },
    async setup() {
      fds = Array.from({ length: files }, (_, i) => preallocated(scratch.path(`raw-${i}.img`), rawBlocks));
      await Promise.all(fds.map((fd) => fdatasyncAsync(fd)));
    },
    trial(durationMs) {
      return blockWriteLoop(durationMs, clients, s, async (addr, block) => {
        for (const fd of fds) writeSync(fd, block, 0, BLOCK_SIZE, addr * BLOCK_SIZE);
        await Promise.all(fds.map((fd) => fdatasyncAsync(fd)));
      });
    },
    async teardown() {
      for (const fd of fds) closeSync(fd);
      fds = [];
    },
  };
}

/**
 * Why the device uses writeSync: the same 4 KiB write made with fs.writeSync and with an
 * awaited FileHandle.write, alone and followed by a durable sync, serially on one file.
 */
export function ioStyleContender(scratch: Scratch, style: 'sync' | 'handle', durable: boolean): Contender {
  let fd = -1;
  let fh: FileHandle | undefined;
  const rawBlocks = workloadBlocks();
  const s = stripes(1, rawBlocks);
  const block = payload(0, 0, 0);
  return {
    id: `io.${style === 'sync' ? 'writeSync' : 'fileHandle'}${durable ? '.fdatasync' : ''}`,
    label: `${style === 'sync' ? 'fs.writeSync' : 'await FileHandle.write'}${durable ? ' + fdatasync' : ''}`,
    kind: style === 'sync' ? 'limit' : 'baseline',
    clients: 1,
    spec: { type: 'io', style, durable },
    async setup() {
      const path = scratch.path(`io-${style}.img`);
      closeSync(preallocated(path, rawBlocks));
      if (style === 'sync') fd = openSync(path, 'r+');
      else fh = await open(path, 'r+');
    },
    trial(durationMs) {
      return closedLoop({
        durationMs,
        clients: 1,
        blocksPerOp: 1,
        op: async (_c, seq) => {
          const [addr] = txAddresses(s, 0, seq, 1);
          if (style === 'sync') {
            writeSync(fd, block, 0, BLOCK_SIZE, addr * BLOCK_SIZE);
            if (durable) await fdatasyncAsync(fd);
          } else {
            await fh!.write(block, 0, BLOCK_SIZE, addr * BLOCK_SIZE);
            if (durable) await fh!.datasync();
          }
        },
      });
    },
    async teardown() {
      if (fd >= 0) closeSync(fd);
      await fh?.close();
      fd = -1;
      fh = undefined;
    },
  };
}

export function ioStyleGroup(scratch: Scratch): Group {
  return {
    id: 'io-style',
    title: 'I/O style: 4 KiB positional write, fs.writeSync vs awaited FileHandle.write (1 file, serial)',
    opName: 'writes',
    contenders: [
      ioStyleContender(scratch, 'sync', false),
      ioStyleContender(scratch, 'handle', false),
      ioStyleContender(scratch, 'sync', true),
      ioStyleContender(scratch, 'handle', true),
    ],
    ratios: [
      { ours: 'io.writeSync', baseline: 'io.fileHandle' },
      { ours: 'io.writeSync.fdatasync', baseline: 'io.fileHandle.fdatasync' },
    ],
    notes: ['ratio > 1 means writeSync is faster; this is why FileBlockDevice writes synchronously and syncs asynchronously'],
  };
}
