import type { Transaction, TransactionalDisk } from '../wal/transactional-disk.ts';
import {
  BadImageError,
  InvalidArgumentError,
  MailboxLockedError,
  MailboxNotLockedError,
  MessageTooLargeError,
  MismatchError,
  StoreFullError,
  UnknownMessageError,
  UnknownUserError,
  UnsupportedVersionError,
  invariant,
} from '../errors.ts';
import {
  DIR_ENTRY_BYTES,
  FORMAT_VERSION,
  HEAD_HEADER_BYTES,
  HEAD_MAGIC,
  INDEX_ENTRY_BYTES,
  INDEX_HEADER_BYTES,
  INDEX_MAGIC,
  computeGeometry,
  decodeDirEntry,
  decodeSuperblock,
  encodeSuperblock,
  entriesPerIndexBlock,
  extraBlocksFor,
  indexBlockAddr,
  partitionOf,
  partitionRange,
  view,
  type MailFormatOptions,
  type MailGeometry,
} from './mail-layout.ts';
import { BlockAllocator } from '../wal/block-allocator.ts';
import { MailboxLocks } from './mailbox-locks.ts';
import { checkUserName } from './user-name.ts';

export interface MailMessage {
  id: number;
  data: Uint8Array;
}

/** Where an index entry lives and what it points at. */
export interface IndexEntry {
  id: number;
  seq: number;
  /** Index block number within the user (0..K-1) and entry number within that block. */
  k: number;
  j: number;
  head: number;
  length: number;
}

export interface MailOpenOptions extends MailFormatOptions {
  /** Format the store if it holds no mail superblock yet. Default false. */
  create?: boolean;
}

/** Metadata blocks zeroed per transaction when formatting, to stay far below any log size. */
const FORMAT_BLOCKS_PER_TX = 16;

/**
 * The mail store (the Mailboat operations) over a TransactionalDisk. The on-disk layout is
 * described at the top of mail-layout.ts.
 *
 * deliver(user, message) is one transaction: allocate blocks, write the message, add the
 * index entry. delete(user, id) is one transaction: remove the entry, free the blocks.
 * pickup(user) takes the mailbox lock (in memory: a crash unlocks) and reads the mailbox;
 * delete needs that lock; unlock(user) releases it. The lock is the mailbox's, not a
 * caller's: the store trusts its callers (the POP3 session, the benchmark) to pair
 * pickup/delete/unlock, as in Mailboat.
 *
 * The protected methods are the seams from which broken variants (mutants for the crash
 * harness) are built by subclassing: commitDelivery and commitDelete choose how the steps
 * are grouped into transactions; lockMailbox/requireLock decide the locking.
 */
export class MailStore {
  readonly geometry: MailGeometry;
  protected readonly disk: TransactionalDisk;
  readonly #locks = new MailboxLocks();
  /**
   * Blocks this store fills and then gives up to a transaction (writeOwned): fresh ones
   * for messages, private copies of shared reads for read-modify-write.
   */
  readonly #blocks: BlockAllocator;
  /** Name to slot, mirroring the user directory; changed only after a committed addUser. */
  readonly #slots = new Map<string, number>();
  readonly #names: (string | undefined)[];
  /** In-memory placement hints, chosen before a transaction; never trusted for correctness. */
  #nextPartition = 0;
  readonly #nextIndex: number[];
  readonly #scanHint: number[];
  #userAdd: Promise<unknown> = Promise.resolve();

  /** Use MailStore.open (or Subclass.open): it reads the geometry and the user directory. */
  constructor(disk: TransactionalDisk, geometry: MailGeometry, names: (string | undefined)[]) {
    this.disk = disk;
    this.geometry = geometry;
    this.#blocks = new BlockAllocator(geometry.blockSize);
    this.#names = names;
    names.forEach((n, slot) => n !== undefined && this.#slots.set(n, slot));
    this.#nextIndex = new Array(geometry.maxUsers).fill(0);
    this.#scanHint = new Array(geometry.partitions).fill(0);
  }

  /**
   * Opens the mail store on `disk`; with create: true, formats it first if it holds no mail
   * superblock. Format options given for an existing store must match what is on disk.
   */
  static async open<T extends MailStore>(this: new (d: TransactionalDisk, g: MailGeometry, n: (string | undefined)[]) => T, disk: TransactionalDisk, options: MailOpenOptions = {}): Promise<T> {
    let sb = decodeSuperblock(await disk.read(0));
    if (!sb) {
      if (!options.create) throw new BadImageError('the store holds no mail store (open with create: true to format it)');
      await formatMailStore(disk, options);
      sb = decodeSuperblock(await disk.read(0));
      invariant(sb, 'superblock missing right after format');
    }
    if (sb.version !== FORMAT_VERSION) throw new UnsupportedVersionError(`mail store format version ${sb.version}; this code reads ${FORMAT_VERSION}`);
    const g = sb.geometry;
    if (g.blockSize !== disk.blockSize || g.numBlocks > disk.numBlocks) {
      throw new MismatchError(`mail store was formatted for ${g.numBlocks} blocks of ${g.blockSize} bytes; the disk has ${disk.numBlocks} of ${disk.blockSize}`);
    }
    // partitions is not checked: format may round it to fit the disk.
    for (const key of ['maxUsers', 'indexBlocksPerUser', 'maxMessageBytes'] as const) {
      if (options[key] !== undefined && options[key] !== g[key]) {
        throw new MismatchError(`option ${key}=${options[key]} differs from the store's ${g[key]}`);
      }
    }
    const names: (string | undefined)[] = new Array(g.maxUsers).fill(undefined);
    for (let b = 0; b < g.dirBlocks; b++) {
      const blk = await disk.read(1 + b);
      for (let e = 0; e < g.blockSize / DIR_ENTRY_BYTES; e++) {
        const slot = b * (g.blockSize / DIR_ENTRY_BYTES) + e;
        if (slot >= g.maxUsers) break;
        names[slot] = decodeDirEntry(blk, e);
      }
    }
    return new this(disk, g, names);
  }

  get maxMessageBytes(): number {
    return this.geometry.maxMessageBytes;
  }

  /** The users that have a mailbox. */
  users(): string[] {
    return [...this.#slots.keys()];
  }

  hasUser(user: string): boolean {
    return this.#slots.has(user);
  }

  /** Creates a mailbox for `user` (no-op if it exists). Serialised: user slots are few and rarely added. */
  addUser(user: string): Promise<void> {
    checkUserName(user);
    const run = this.#userAdd.then(() => this.#addUser(user));
    this.#userAdd = run.catch(() => undefined);
    return run;
  }

  async #addUser(user: string): Promise<void> {
    if (this.#slots.has(user)) return;
    const g = this.geometry;
    const perBlock = g.blockSize / DIR_ENTRY_BYTES;
    const slot = await this.disk.transaction(async (tx) => {
      for (let b = 0; b < g.dirBlocks; b++) {
        const blk = this.#blocks.copy(await tx.readShared(1 + b));
        for (let e = 0; e < perBlock && b * perBlock + e < g.maxUsers; e++) {
          if (decodeDirEntry(blk, e) !== undefined) continue;
          blk[e * DIR_ENTRY_BYTES] = user.length;
          blk.set(Buffer.from(user, 'ascii'), e * DIR_ENTRY_BYTES + 1);
          tx.writeOwned(1 + b, blk);
          return b * perBlock + e;
        }
      }
      throw new StoreFullError(`all ${g.maxUsers} user slots are taken`);
    });
    this.#slots.set(user, slot);
    this.#names[slot] = user;
  }

  /** Stores one whole message for `user` and returns its id, fresh within the mailbox. */
  async deliver(user: string, message: Uint8Array): Promise<number> {
    const slot = this.slotOf(user);
    this.#checkMessage(message);
    const t = this.#target(slot);
    return this.commitDelivery(slot, message, t.k, t.partition);
  }

  /**
   * Stores one message for each of `users` (an SMTP message's recipients) and returns their
   * ids, in the order of `users`. All in one transaction whenever that fits the log, so a
   * crash or a refusal (a full store or mailbox) delivers to every recipient or to none, and
   * a client that is told of the failure and sends again creates no duplicates. Only a
   * fan-out too large for one transaction is split, into as few all-or-none transactions as fit.
   */
  async deliverMany(users: readonly string[], message: Uint8Array): Promise<number[]> {
    const slots = users.map((u) => this.slotOf(u));
    this.#checkMessage(message);
    const n = 1 + extraBlocksFor(message.length, this.geometry.blockSize);
    const perTx = this.#recipientsPerTransaction(n);
    const ids: number[] = [];
    for (let i = 0; i < slots.length; i += perTx) {
      ids.push(...(await this.commitDeliveries(slots.slice(i, i + perTx).map((slot) => ({ slot, ...this.#target(slot) })), message)));
    }
    return ids;
  }

  #checkMessage(message: Uint8Array): void {
    if (!(message instanceof Uint8Array)) throw new InvalidArgumentError('a message must be a Uint8Array or Buffer');
    if (message.length > this.geometry.maxMessageBytes) {
      throw new MessageTooLargeError(`message of ${message.length} bytes exceeds the limit of ${this.geometry.maxMessageBytes}`);
    }
  }

  /** Placement hints for the next delivery to `slot`: which index block, which partition first. */
  #target(slot: number): { k: number; partition: number } {
    const g = this.geometry;
    return { k: this.#nextIndex[slot]++ % g.indexBlocksPerUser, partition: this.#nextPartition++ % g.partitions };
  }

  /**
   * How many deliveries of an n-block message surely fit one transaction: each writes its n
   * blocks and an index block, and all of them together at most one bitmap block per partition.
   */
  #recipientsPerTransaction(n: number): number {
    const maxTx = maxTransactionBlocksOf(this.disk);
    if (maxTx === undefined) return Infinity;
    let r = 1;
    while ((r + 1) * (n + 1) + Math.min(this.geometry.partitions, (r + 1) * n) <= maxTx) r++;
    return r;
  }

  /**
   * Locks the mailbox (waiting for another reader to unlock it) and returns its messages,
   * in id order. The caller must unlock(user) when done.
   */
  async pickup(user: string): Promise<MailMessage[]> {
    const slot = this.slotOf(user);
    await this.lockMailbox(slot);
    return this.#readLocked(slot);
  }

  /** Like pickup, but fails with MailboxLockedError instead of waiting for another reader. */
  async tryPickup(user: string): Promise<MailMessage[]> {
    const slot = this.slotOf(user);
    if (!this.tryLockMailbox(slot)) throw new MailboxLockedError(user);
    return this.#readLocked(slot);
  }

  async #readLocked(slot: number): Promise<MailMessage[]> {
    try {
      return await this.disk.transaction((tx) => this.readMailbox(tx, slot));
    } catch (e) {
      this.unlockMailbox(slot);
      throw e;
    }
  }

  /** Deletes one message; the mailbox must be locked by pickup. */
  async delete(user: string, id: number): Promise<void> {
    const slot = this.slotOf(user);
    this.requireLock(slot, user);
    if (!Number.isSafeInteger(id) || id < 0) throw new UnknownMessageError(user, id);
    await this.commitDelete(slot, user, [id]);
  }

  /** Deletes several messages in one transaction (all or none); the mailbox must be locked. */
  async deleteMany(user: string, ids: readonly number[]): Promise<void> {
    const slot = this.slotOf(user);
    this.requireLock(slot, user);
    for (const id of ids) if (!Number.isSafeInteger(id) || id < 0) throw new UnknownMessageError(user, id);
    if (new Set(ids).size !== ids.length) throw new InvalidArgumentError('deleteMany: duplicate ids');
    if (ids.length > 0) await this.commitDelete(slot, user, ids);
  }

  unlock(user: string): void {
    const slot = this.slotOf(user);
    this.requireLock(slot, user);
    this.unlockMailbox(slot);
  }

  isLocked(user: string): boolean {
    return this.#locks.isLocked(this.slotOf(user));
  }

  // ---- seams (protected): grouping of steps into transactions, and locking ----

  /** One transaction: allocate, write the message blocks, add the index entry. */
  protected commitDelivery(slot: number, message: Uint8Array, k: number, partition: number): Promise<number> {
    return this.disk.transaction((tx) => this.deliverIn(tx, slot, message, k, partition));
  }

  /** One transaction: every delivery of deliverMany's batch. */
  protected commitDeliveries(targets: readonly { slot: number; k: number; partition: number }[], message: Uint8Array): Promise<number[]> {
    return this.disk.transaction(async (tx) => {
      const ids: number[] = [];
      for (const t of targets) ids.push(await this.deliverIn(tx, t.slot, message, t.k, t.partition));
      return ids;
    });
  }

  /** One transaction: remove the index entries, free their blocks. */
  protected commitDelete(slot: number, user: string, ids: readonly number[]): Promise<void> {
    return this.disk.transaction(async (tx) => {
      const freed: number[] = [];
      for (const id of ids) {
        const entry = await this.findIndexEntry(tx, slot, user, id);
        freed.push(...(await this.messageBlocks(tx, entry.head)));
        await this.removeIndexEntry(tx, slot, entry);
      }
      await this.freeBlocks(tx, freed);
    });
  }

  protected lockMailbox(slot: number): Promise<void> {
    return this.#locks.acquire(slot);
  }

  protected tryLockMailbox(slot: number): boolean {
    return this.#locks.tryAcquire(slot);
  }

  protected unlockMailbox(slot: number): void {
    this.#locks.release(slot);
  }

  protected requireLock(slot: number, user: string): void {
    if (!this.#locks.isLocked(slot)) throw new MailboxNotLockedError(user);
  }

  // ---- steps, each inside a caller's transaction ----

  /** A whole delivery: allocate, write the message blocks, add the index entry. Returns the id. */
  protected async deliverIn(tx: Transaction, slot: number, message: Uint8Array, k: number, partition: number): Promise<number> {
    const blocks = await this.allocateBlocks(tx, 1 + extraBlocksFor(message.length, this.geometry.blockSize), partition);
    const entry = await this.insertIndexEntry(tx, slot, k, blocks[0], message.length);
    this.writeMessageBlocks(tx, slot, entry.seq, blocks, message);
    return entry.id;
  }

  protected slotOf(user: string): number {
    checkUserName(user);
    const slot = this.#slots.get(user);
    if (slot === undefined) throw new UnknownUserError(user);
    return slot;
  }

  /**
   * Allocates `n` blocks, starting in `partition` and moving on to the next ones when it is
   * full. Throws StoreFullError (and so writes nothing) if the store lacks n free blocks.
   */
  protected async allocateBlocks(tx: Transaction, n: number, partition: number): Promise<number[]> {
    const g = this.geometry;
    const got: number[] = [];
    for (let i = 0; i < g.partitions && got.length < n; i++) {
      const p = (partition + i) % g.partitions;
      const { first, count } = partitionRange(g, p);
      if (count === 0) continue;
      const addr = g.bitmapStart + p;
      const bm = this.#blocks.copy(await tx.readShared(addr));
      const taken = got.length;
      const start = this.#scanHint[p] < count ? this.#scanHint[p] : 0;
      // Scan from the hint to the end, then from 0 to the hint: bounded by 2*count bits.
      for (let pass = 0; pass < 2 && got.length < n; pass++) {
        const lo = pass === 0 ? start : 0;
        const hi = pass === 0 ? count : start;
        for (let bit = lo; bit < hi && got.length < n; bit++) {
          const byte = bit >> 3;
          if (bm[byte] === 0xff && (bit & 7) === 0) {
            bit += 7;
            continue;
          }
          if ((bm[byte] & (1 << (bit & 7))) === 0) {
            bm[byte] |= 1 << (bit & 7);
            got.push(first + bit);
            this.#scanHint[p] = bit + 1; // a hint only: harmless if this transaction retries
          }
        }
      }
      if (got.length > taken) tx.writeOwned(addr, bm);
    }
    if (got.length < n) throw new StoreFullError(`no room for a message of ${n} blocks`);
    return got;
  }

  /** Clears the bitmap bits of `blocks`, which must all be allocated. */
  protected async freeBlocks(tx: Transaction, blocks: readonly number[]): Promise<void> {
    const g = this.geometry;
    const byPartition = new Map<number, number[]>();
    for (const b of blocks) {
      invariant(b >= g.dataStart && b < g.numBlocks, () => `freeing block ${b} outside the data area`);
      const p = partitionOf(g, b);
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push(b);
    }
    for (const [p, list] of byPartition) {
      const addr = g.bitmapStart + p;
      const bm = this.#blocks.copy(await tx.readShared(addr));
      const { first } = partitionRange(g, p);
      for (const b of list) {
        const bit = b - first;
        invariant(bm[bit >> 3] & (1 << (bit & 7)), () => `freeing block ${b}, which is not allocated`);
        bm[bit >> 3] &= ~(1 << (bit & 7));
      }
      tx.writeOwned(addr, bm);
    }
  }

  /**
   * Adds an index entry for a message whose head block is `head`, in index block k of the
   * user or, if that one is full, the next one with room. Returns the entry (with its id).
   */
  protected async insertIndexEntry(tx: Transaction, slot: number, k: number, head: number, length: number): Promise<IndexEntry> {
    const g = this.geometry;
    const K = g.indexBlocksPerUser;
    const per = entriesPerIndexBlock(g.blockSize);
    for (let i = 0; i < K; i++) {
      const kk = (k + i) % K;
      const addr = indexBlockAddr(g, slot, kk);
      const shared = await tx.readShared(addr);
      if (view(shared).getUint32(8, true) >= per) continue;
      const blk = this.#blocks.copy(shared);
      const v = view(blk);
      const count = v.getUint32(8, true);
      for (let j = 0; j < per; j++) {
        const off = INDEX_HEADER_BYTES + j * INDEX_ENTRY_BYTES;
        if (v.getUint32(off + 12, true) !== 0) continue;
        const seq = v.getUint32(4, true);
        invariant(seq < 0xffffffff, 'index block sequence exhausted');
        v.setUint32(0, INDEX_MAGIC, true);
        v.setUint32(4, seq + 1, true);
        v.setUint32(8, count + 1, true);
        v.setUint32(off, seq, true);
        v.setUint32(off + 4, head, true);
        v.setUint32(off + 8, length, true);
        v.setUint32(off + 12, 1, true);
        tx.writeOwned(addr, blk);
        return { id: seq * K + kk, seq, k: kk, j, head, length };
      }
      invariant(false, () => `index block ${addr} counts ${count} entries but has no free one`);
    }
    throw new StoreFullError(`the mailbox is full (${K * per} messages)`);
  }

  protected async findIndexEntry(tx: Transaction, slot: number, user: string, id: number): Promise<IndexEntry> {
    const g = this.geometry;
    const K = g.indexBlocksPerUser;
    const k = id % K;
    const seq = Math.floor(id / K);
    const v = view(await tx.readShared(indexBlockAddr(g, slot, k)));
    const per = entriesPerIndexBlock(g.blockSize);
    for (let j = 0; j < per; j++) {
      const off = INDEX_HEADER_BYTES + j * INDEX_ENTRY_BYTES;
      if (v.getUint32(off + 12, true) === 1 && v.getUint32(off, true) === seq) {
        return { id, seq, k, j, head: v.getUint32(off + 4, true), length: v.getUint32(off + 8, true) };
      }
    }
    throw new UnknownMessageError(user, id);
  }

  protected async removeIndexEntry(tx: Transaction, slot: number, entry: IndexEntry): Promise<void> {
    const addr = indexBlockAddr(this.geometry, slot, entry.k);
    const blk = this.#blocks.copy(await tx.readShared(addr));
    const v = view(blk);
    const off = INDEX_HEADER_BYTES + entry.j * INDEX_ENTRY_BYTES;
    invariant(v.getUint32(off + 12, true) === 1 && v.getUint32(off, true) === entry.seq, () => `index entry ${entry.id} vanished under its own transaction`);
    blk.fill(0, off, off + INDEX_ENTRY_BYTES);
    v.setUint32(8, v.getUint32(8, true) - 1, true);
    tx.writeOwned(addr, blk);
  }

  /** Writes a message into its head block and extra blocks. */
  protected writeMessageBlocks(tx: Transaction, slot: number, seq: number, blocks: readonly number[], message: Uint8Array): void {
    const B = this.geometry.blockSize;
    const nExtra = blocks.length - 1;
    invariant(nExtra === extraBlocksFor(message.length, B), 'block count does not match message length');
    const head = this.#blocks.alloc();
    const v = view(head);
    v.setUint32(0, HEAD_MAGIC, true);
    v.setUint32(4, message.length, true);
    v.setUint32(8, nExtra, true);
    v.setUint32(12, slot, true);
    v.setUint32(16, seq, true);
    for (let i = 0; i < nExtra; i++) v.setUint32(HEAD_HEADER_BYTES + 4 * i, blocks[1 + i], true);
    const inlineAt = HEAD_HEADER_BYTES + 4 * nExtra;
    const inline = Math.min(message.length, B - inlineAt);
    head.set(message.subarray(0, inline), inlineAt);
    tx.writeOwned(blocks[0], head);
    let pos = inline;
    for (let i = 0; i < nExtra; i++) {
      const blk = this.#blocks.alloc();
      blk.set(message.subarray(pos, pos + B));
      pos += B;
      tx.writeOwned(blocks[1 + i], blk);
    }
    invariant(pos >= message.length, 'message not fully written');
  }

  /** The blocks (head first) of the message whose head block is `head`. */
  protected async messageBlocks(tx: Transaction, head: number): Promise<number[]> {
    const v = view(await tx.readShared(head));
    invariant(v.getUint32(0, true) === HEAD_MAGIC, () => `block ${head} is not a message head`);
    const nExtra = v.getUint32(8, true);
    const out = [head];
    for (let i = 0; i < nExtra; i++) out.push(v.getUint32(HEAD_HEADER_BYTES + 4 * i, true));
    return out;
  }

  protected async readMessage(tx: Transaction, entry: { head: number; length: number }): Promise<Uint8Array> {
    const B = this.geometry.blockSize;
    const head = await tx.readShared(entry.head);
    const v = view(head);
    invariant(v.getUint32(0, true) === HEAD_MAGIC, () => `block ${entry.head} is not a message head`);
    const length = v.getUint32(4, true);
    invariant(length === entry.length, () => `message at ${entry.head}: head says ${length} bytes, index says ${entry.length}`);
    const nExtra = v.getUint32(8, true);
    invariant(nExtra === extraBlocksFor(length, B), () => `message at ${entry.head}: ${nExtra} extra blocks for ${length} bytes`);
    const out = new Uint8Array(length);
    const inlineAt = HEAD_HEADER_BYTES + 4 * nExtra;
    const inline = Math.min(length, B - inlineAt);
    out.set(head.subarray(inlineAt, inlineAt + inline));
    let pos = inline;
    for (let i = 0; i < nExtra; i++) {
      const blk = await tx.readShared(v.getUint32(HEAD_HEADER_BYTES + 4 * i, true));
      out.set(blk.subarray(0, Math.min(B, length - pos)), pos);
      pos += B;
    }
    return out;
  }

  /** The index entries of a mailbox, in id order. */
  protected async readIndex(tx: Transaction, slot: number): Promise<IndexEntry[]> {
    const g = this.geometry;
    const K = g.indexBlocksPerUser;
    const per = entriesPerIndexBlock(g.blockSize);
    const out: IndexEntry[] = [];
    for (let k = 0; k < K; k++) {
      const v = view(await tx.readShared(indexBlockAddr(g, slot, k)));
      // The block's count (kept in the same transactions as its entries, checked by
      // mailFsck) says when the rest of the block is empty: a mailbox of a few messages is
      // not a scan of every slot.
      let left = v.getUint32(8, true);
      for (let j = 0; j < per && left > 0; j++) {
        const off = INDEX_HEADER_BYTES + j * INDEX_ENTRY_BYTES;
        if (v.getUint32(off + 12, true) !== 1) continue;
        left--;
        const seq = v.getUint32(off, true);
        out.push({ id: seq * K + k, seq, k, j, head: v.getUint32(off + 4, true), length: v.getUint32(off + 8, true) });
      }
      invariant(left === 0, () => `index block ${indexBlockAddr(g, slot, k)} counts more entries than it holds`);
    }
    return out.sort((a, b) => a.id - b.id);
  }

  protected async readMailbox(tx: Transaction, slot: number): Promise<MailMessage[]> {
    const out: MailMessage[] = [];
    for (const e of await this.readIndex(tx, slot)) out.push({ id: e.id, data: await this.readMessage(tx, e) });
    return out;
  }
}

/** The largest transaction `disk` takes, when it says (the WAL does; the interface does not require it). */
function maxTransactionBlocksOf(disk: TransactionalDisk): number | undefined {
  const maxTx = (disk as { maxTransactionBlocks?: unknown }).maxTransactionBlocks;
  return typeof maxTx === 'number' ? maxTx : undefined;
}

/**
 * Formats a mail store: zeroes every metadata block (a reused disk may hold anything),
 * then writes the superblock in a last transaction, which is the commit point: a crash
 * before it leaves an unformatted store that a later format simply redoes.
 */
export async function formatMailStore(disk: TransactionalDisk, options: MailFormatOptions = {}): Promise<MailGeometry> {
  const g = computeGeometry(disk.blockSize, disk.numBlocks, options, maxTransactionBlocksOf(disk));
  const zero = new Uint8Array(g.blockSize);
  for (let a = 1; a < g.dataStart; a += FORMAT_BLOCKS_PER_TX) {
    const end = Math.min(g.dataStart, a + FORMAT_BLOCKS_PER_TX);
    await disk.transaction((tx) => {
      for (let b = a; b < end; b++) tx.write(b, zero);
    });
  }
  await disk.transaction((tx) => tx.write(0, encodeSuperblock(g)));
  return g;
}
