/**
 * Child process for the recovery benchmark: opens (or creates) a store, runs concurrent
 * 8-block transactions spread over the whole store, says "ready" on stdout once enough
 * have committed, and keeps writing until the parent kills it with SIGKILL. What the
 * parent then finds on disk is a real crash state: log records in flight, blocks half
 * installed, mirrors that may differ where a write was under way.
 */
import { loadOpenStore } from './contenders/store-api.ts';
import { payload } from './workload.ts';

interface ChildArgs {
  dir: string;
  numBlocks: number;
  logBlocks: number;
  clients: number;
  readyAfter: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const openStore = await loadOpenStore();
if (!openStore) throw new Error('the store is not in the tree');
const store = await openStore({ dir: args.dir, numBlocks: args.numBlocks, logBlocks: args.logBlocks });
const dataBlocks = store.status().dataBlocks;
let committed = 0;
let said = false;
const client = async (c: number) => {
  for (let seq = 0; ; seq++) {
    // Spread over the whole data region, 8 consecutive blocks per transaction.
    const start = Math.floor(Math.random() * Math.max(1, dataBlocks - 8));
    await store.transaction((tx) => {
      for (let i = 0; i < 8 && start + i < dataBlocks; i++) tx.write(start + i, payload(c, seq, i, store.blockSize));
    });
    committed++;
    if (!said && committed >= args.readyAfter) {
      said = true;
      process.stdout.write('ready\n');
    }
  }
};
await Promise.all(Array.from({ length: args.clients }, (_, c) => client(c)));
