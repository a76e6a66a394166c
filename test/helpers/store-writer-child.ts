// Child process for tests: opens a store in argv[2], writes blocks 0..9 with values 1..10
// (block size argv[3]), and exits without close(), as a process that dies would.
import { openStore } from '../../src/store/open-store.ts';

const [dir, bs] = process.argv.slice(2);
const blockSize = Number(bs);
const store = await openStore({ dir, numBlocks: 16, blockSize, logBlocks: 64 });
for (let i = 0; i < 10; i++) await store.write(i, Buffer.alloc(blockSize, i + 1));
process.exit(0);
