import Database from 'better-sqlite3';
import type { Contender } from '../contender.ts';
import { syncLoop } from '../measure.ts';
import type { Scratch } from '../tmp.ts';
import { BLOCK_SIZE, payload, stripes, txAddresses } from '../workload.ts';

export const SQLITE_NOTE =
  'SQLite (better-sqlite3) is synchronous: its transactions run serially, one after another, whatever the client count of the store it is paired with';

/**
 * The baseline a user would pick instead: SQLite through better-sqlite3, WAL journal,
 * synchronous=FULL (every commit fsyncs the WAL), a table of 4 KiB blobs keyed by
 * address, pre-filled so that transactions overwrite existing rows. A k-block
 * transaction is one BEGIN … COMMIT with k upserts.
 */
export function sqliteContender(scratch: Scratch, blocksPerTx: number, addressSpace: number): Contender {
  let db: Database.Database | undefined;
  let tx: ((seq: number) => void) | undefined;
  const s = stripes(1, addressSpace);
  return {
    id: `sqlite.${blocksPerTx}block`,
    label: `SQLite WAL sync=FULL, ${blocksPerTx}-block tx (serial)`,
    kind: 'baseline',
    clients: 1,
    spec: { type: 'sqlite', blocksPerTx, addressSpace },
    async setup() {
      db = new Database(scratch.path(`sqlite-${blocksPerTx}.db`));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec('CREATE TABLE blocks(addr INTEGER PRIMARY KEY, data BLOB NOT NULL)');
      const fill = db.prepare('INSERT INTO blocks(addr, data) VALUES (?, ?)');
      const zero = Buffer.alloc(BLOCK_SIZE);
      db.transaction(() => {
        for (let a = 0; a < s.total; a++) fill.run(a, zero);
      })();
      db.pragma('wal_checkpoint(TRUNCATE)');
      const upsert = db.prepare('INSERT INTO blocks(addr, data) VALUES (?, ?) ON CONFLICT(addr) DO UPDATE SET data = excluded.data');
      const run = db.transaction((seq: number) => {
        const addrs = txAddresses(s, 0, seq, blocksPerTx);
        for (let i = 0; i < addrs.length; i++) upsert.run(addrs[i], payload(0, seq, i));
      });
      tx = (seq) => run(seq);
    },
    async trial(durationMs) {
      return syncLoop(durationMs, tx!, blocksPerTx);
    },
    async teardown() {
      db?.close();
      db = undefined;
    },
  };
}
