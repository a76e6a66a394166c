import type { Transaction, TransactionalDisk } from '../wal/transactional-disk.ts';
import {
  DIR_ENTRY_BYTES,
  FORMAT_VERSION,
  HEAD_HEADER_BYTES,
  HEAD_MAGIC,
  INDEX_ENTRY_BYTES,
  INDEX_HEADER_BYTES,
  INDEX_MAGIC,
  decodeDirEntry,
  decodeSuperblock,
  entriesPerIndexBlock,
  extraBlocksFor,
  indexBlockAddr,
  partitionRange,
  view,
} from './mail-layout.ts';
import { isValidUserName } from './user-name.ts';

export interface MailFsckReport {
  ok: boolean;
  /** One sentence per inconsistency found; empty when ok. */
  problems: string[];
  users: number;
  messages: number;
  blocksInUse: number;
}

/** Bound on the problems listed, so a wrecked store gives a readable report. */
const MAX_PROBLEMS = 100;

/**
 * Checks a mail store's on-disk consistency in one read-only transaction: every index
 * entry points at a well-formed message owned by that mailbox; every block a message uses
 * is marked allocated and used by exactly one message (nothing shared); every allocated
 * block is used by some message (nothing leaked). Crash tests call it after recovery.
 */
export async function mailFsck(disk: TransactionalDisk): Promise<MailFsckReport> {
  return disk.transaction((tx) => check(tx));
}

async function check(tx: Transaction): Promise<MailFsckReport> {
  const problems: string[] = [];
  const problem = (s: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(s);
  };
  const report = (users = 0, messages = 0, blocksInUse = 0): MailFsckReport => ({ ok: problems.length === 0, problems, users, messages, blocksInUse });
  const sb = decodeSuperblock(await tx.read(0));
  if (!sb) {
    problem('no mail superblock');
    return report();
  }
  if (sb.version !== FORMAT_VERSION) problem(`superblock version ${sb.version}`);
  const g = sb.geometry;
  const K = g.indexBlocksPerUser;
  const per = entriesPerIndexBlock(g.blockSize);
  const owner = new Map<number, string>();
  const claim = (addr: number, who: string) => {
    if (addr < g.dataStart || addr >= g.numBlocks) return problem(`${who} points at block ${addr}, outside the data area`);
    const prev = owner.get(addr);
    if (prev !== undefined) problem(`block ${addr} is shared by ${prev} and ${who}`);
    else owner.set(addr, who);
  };

  let users = 0;
  let messages = 0;
  const seen = new Set<string>();
  const perDirBlock = g.blockSize / DIR_ENTRY_BYTES;
  for (let slot = 0; slot < g.maxUsers; slot++) {
    const name = decodeDirEntry(await tx.read(1 + Math.floor(slot / perDirBlock)), slot % perDirBlock);
    if (name !== undefined) {
      users++;
      if (!isValidUserName(name)) problem(`user slot ${slot} holds an invalid name`);
      if (seen.has(name)) problem(`user ${name} appears twice in the directory`);
      seen.add(name);
    }
    for (let k = 0; k < K; k++) {
      const addr = indexBlockAddr(g, slot, k);
      const blk = await tx.read(addr);
      const v = view(blk);
      if (name === undefined) {
        if (!allZero(blk)) problem(`index block ${addr} of free user slot ${slot} is not empty`);
        continue;
      }
      const magic = v.getUint32(0, true);
      if (magic === 0) {
        if (!allZero(blk)) problem(`index block ${addr} has no magic but is not empty`);
        continue;
      }
      if (magic !== INDEX_MAGIC) {
        problem(`index block ${addr} has a bad magic`);
        continue;
      }
      const nextSeq = v.getUint32(4, true);
      let count = 0;
      for (let j = 0; j < per; j++) {
        const e = INDEX_HEADER_BYTES + j * INDEX_ENTRY_BYTES;
        const flags = v.getUint32(e + 12, true);
        if (flags === 0) continue;
        count++;
        messages++;
        const seq = v.getUint32(e, true);
        const head = v.getUint32(e + 4, true);
        const length = v.getUint32(e + 8, true);
        const who = `message ${seq * K + k} of ${name}`;
        if (flags !== 1) problem(`${who}: bad flags ${flags}`);
        if (seq >= nextSeq) problem(`${who}: sequence ${seq} not below the block's next ${nextSeq}`);
        if (length > g.maxMessageBytes) problem(`${who}: ${length} bytes is over the limit`);
        claim(head, who);
        if (head < g.dataStart || head >= g.numBlocks) continue;
        const hv = view(await tx.read(head));
        if (hv.getUint32(0, true) !== HEAD_MAGIC) {
          problem(`${who}: block ${head} is not a message head`);
          continue;
        }
        if (hv.getUint32(4, true) !== length) problem(`${who}: head length ${hv.getUint32(4, true)} differs from index length ${length}`);
        if (hv.getUint32(12, true) !== slot || hv.getUint32(16, true) !== seq) problem(`${who}: head belongs to another message`);
        const nExtra = hv.getUint32(8, true);
        if (nExtra !== extraBlocksFor(length, g.blockSize)) {
          problem(`${who}: ${nExtra} extra blocks for ${length} bytes`);
          continue;
        }
        for (let i = 0; i < nExtra; i++) claim(hv.getUint32(HEAD_HEADER_BYTES + 4 * i, true), who);
      }
      if (count !== v.getUint32(8, true)) problem(`index block ${addr} counts ${v.getUint32(8, true)} entries, holds ${count}`);
    }
  }

  let allocated = 0;
  for (let p = 0; p < g.partitions; p++) {
    const bm = await tx.read(g.bitmapStart + p);
    const { first, count } = partitionRange(g, p);
    const bits = g.blockSize * 8;
    // Bits in ascending order, as the problems are listed: the partition's own bits, then
    // the rest of the block, where only set bits matter (whole zero bytes are skipped:
    // fsck runs after every recovery the crash harness checks).
    const own = Math.min(count, bits);
    for (let bit = 0; bit < own; bit++) {
      const set = (bm[bit >> 3] & (1 << (bit & 7))) !== 0;
      const addr = first + bit;
      if (set) allocated++;
      if (set && !owner.has(addr)) problem(`block ${addr} is allocated but used by no message (leaked)`);
      if (!set && owner.has(addr)) problem(`block ${addr} is used by ${owner.get(addr)} but free in the bitmap`);
    }
    for (let byte = own >> 3; byte < bits >> 3; byte++) {
      if (bm[byte] === 0) continue;
      for (let bit = byte * 8; bit < byte * 8 + 8; bit++) {
        if (bit >= own && (bm[byte] & (1 << (bit & 7))) !== 0) problem(`bitmap of partition ${p} marks bit ${bit}, past its ${count} blocks`);
      }
    }
  }
  return report(users, messages, allocated);
}

function allZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
