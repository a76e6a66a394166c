/**
 * Child process for the recovery benchmark: times openStore() (the composed recovery:
 * replicated-disk resync, then log replay) on the files a killed writer left, closes the
 * store, and prints {"seconds", "rssPeakBytes"} as one JSON line. A process of its own so
 * that the peak RSS is recovery's alone, and so that it runs the same code as the writer
 * it recovers from even while the tree changes under a long run.
 */
import { performance } from 'node:perf_hooks';
import { loadOpenStore } from './contenders/store-api.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as { dir: string; numBlocks: number; logBlocks: number };
const openStore = await loadOpenStore();
if (!openStore) throw new Error('the store is not in the tree');
const t0 = performance.now();
const store = await openStore({ dir: args.dir, numBlocks: args.numBlocks, logBlocks: args.logBlocks });
const seconds = (performance.now() - t0) / 1000;
await store.close();
process.stdout.write(`${JSON.stringify({ seconds, rssPeakBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
