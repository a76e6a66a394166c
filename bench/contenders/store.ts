import type { TransactionalDisk } from '../../src/wal/transactional-disk.ts';
import type { Contender, Group } from '../contender.ts';
import { closedLoop } from '../measure.ts';
import type { Scratch } from '../tmp.ts';
import { BLOCK_SIZE, payload, workloadBlocks, stripes, txAddresses } from '../workload.ts';
import { rawContender } from './raw.ts';
import { SQLITE_NOTE, sqliteContender } from './sqlite.ts';
import type { OpenStore } from './store-api.ts';

/** Log size given to the store: room for a few groups of the largest concurrent commit. */
function logBlocksFor(blocksPerTx: number, clients: number): number {
  return Math.max(1024, blocksPerTx * clients * 4);
}

/** The transactional store on two files: each operation is one durable transaction of k blocks. */
export function storeContender(scratch: Scratch, openStore: OpenStore, blocksPerTx: number, clients: number): Contender {
  let store: TransactionalDisk | undefined;
  const addressSpace = workloadBlocks();
  const s = stripes(clients, addressSpace);
  return {
    id: `store.${blocksPerTx}block.c${clients}`,
    label: `twindisk store, ${blocksPerTx}-block tx, ${clients} client${clients > 1 ? 's' : ''}`,
    kind: 'ours',
    clients,
    spec: { type: 'store', blocksPerTx, clients },
    async setup() {
      const logBlocks = logBlocksFor(blocksPerTx, clients);
      store = await openStore({ dir: scratch.path(`store-${blocksPerTx}-c${clients}`), numBlocks: addressSpace, logBlocks });
      const dataBlocks = store.status().dataBlocks;
      if (dataBlocks < s.total) throw new Error(`the store offers ${dataBlocks} data blocks, the workload needs ${s.total}`);
      // Write every block once so that timed transactions overwrite allocated blocks, as SQLite's pre-filled table does.
      const zero = new Uint8Array(BLOCK_SIZE);
      for (let a = 0; a < s.total; a += 32) {
        await store.transaction((tx) => {
          for (let i = a; i < Math.min(a + 32, s.total); i++) tx.write(i, zero);
        });
      }
    },
    trial(durationMs) {
      const st = store!;
      return closedLoop({
        durationMs,
        clients,
        blocksPerOp: blocksPerTx,
        op: async (c, seq) => {
          const addrs = txAddresses(s, c, seq, blocksPerTx);
          const blocks = addrs.map((_, i) => payload(c, seq, i));
          await st.transaction((tx) => {
            for (let i = 0; i < addrs.length; i++) tx.write(addrs[i], blocks[i]);
          });
        },
      });
    },
    async teardown() {
      await store?.close();
      store = undefined;
    },
  };
}

/** The store at each concurrency next to SQLite running the same transactions serially, alternating in rounds. */
export function storeGroup(
  scratch: Scratch,
  openStore: OpenStore | undefined,
  blocksPerTx: number,
  clientLevels: number[],
  withLimit = false,
): Group {
  const sqlite = sqliteContender(scratch, blocksPerTx, workloadBlocks());
  const ours = openStore ? clientLevels.map((c) => storeContender(scratch, openStore, blocksPerTx, c)) : [];
  // The two-file raw limit in the same rounds: how far the store is from what its two mirrors allow.
  // One file serially beside it: what a single-file store (SQLite) can get from the same disk.
  const limits = withLimit && openStore ? [rawContender(scratch, 1, 1), rawContender(scratch, 2, 1), rawContender(scratch, 2, 16)] : [];
  const limitRatios = limits.length
    ? [
        { ours: `store.${blocksPerTx}block.c1`, baseline: 'raw.2file.c1' },
        { ours: `store.${blocksPerTx}block.c16`, baseline: 'raw.2file.c16' },
      ].filter((r) => ours.some((c) => c.id === r.ours))
    : [];
  // What the mirror files themselves allow against SQLite's single file: the ceiling the store's targets sit under.
  const ceilingRatios = [
    ...limits.map((l) => ({ ours: l.id, baseline: sqlite.id })),
    ...(limits.length ? [{ ours: 'raw.2file.c1', baseline: 'raw.1file.c1' }] : []),
  ];
  return {
    id: `store-${blocksPerTx}block`,
    title: `Durable ${blocksPerTx}-block transactions: twindisk store (two files) vs SQLite`,
    opName: 'tx',
    contenders: [sqlite, ...ours, ...limits],
    ratios: [...ours.map((c) => ({ ours: c.id, baseline: sqlite.id })), ...limitRatios, ...ceilingRatios],
    notes: [
      SQLITE_NOTE,
      ...(limits.length
        ? [
            'raw 2 files: the durable-write limit of the two mirror files (one 4 KiB write + fdatasync per file per op, the two fdatasyncs at once), in the same rounds',
            'raw 1 file: the same on one file; raw 2 files / raw 1 file serially is what a second mirror costs a single client on this disk',
          ]
        : []),
      ...(openStore ? [] : ['the transactional store (src/store/open-store.ts) is not in the tree yet: only SQLite was measured']),
    ],
  };
}
