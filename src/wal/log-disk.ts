import type { BlockDevice } from '../device/block-device.ts';
import { writeBlocks } from '../device/block-device.ts';
import { checkAddress, checkBlock, checkRange } from '../device/validate.ts';
import { ClosedError, DeviceFailedError, InvalidArgumentError, TransactionTooLargeError, invariant } from '../errors.ts';
import {
  encodeRecordHeader,
  readLayout,
  writeLogBlocks,
  writeTail,
  type LogLayout,
  type LogRecord,
  type TailPointer,
} from './log-format.ts';
import { BlockAllocator } from './block-allocator.ts';
import { LogReplay } from './log-replay.ts';
import type { StoreStatus, Transaction, TransactionalDisk } from './transactional-disk.ts';
import { TxView, type TxSource } from './tx-view.ts';

/** A transaction handed to the log writer, waiting for its group's commit point. */
interface Pending {
  addrs: number[];
  blocks: Uint8Array[];
  resolve: () => void;
  reject: (err: unknown) => void;
  result: Promise<void>;
  /** Made on first need (settledOf): most commits are never waited on this way. */
  settled?: Promise<void>;
}

/** Settles (never rejects) when the commit is decided; conflicting transactions and flush() wait on it. */
function settledOf(p: Pending): Promise<void> {
  return (p.settled ??= p.result.then(
    () => undefined,
    () => undefined,
  ));
}

/** Installed blocks kept in memory for reads (4 MiB at 4 KiB blocks). */
const CLEAN_CACHE_BLOCKS = 1024;

/**
 * An install starts when the free log space falls to this many times the size of the last
 * group, kept between an eighth and a half of the log. Installing late means fewer, larger
 * install rounds (fewer install flushes, more rewrites of one block absorbed by the log)
 * while leaving the writer room for this many more groups before it must wait for the
 * install. 16 clients of 1-block transactions on two files: +18% against installing at half
 * full (medians of 5 alternating runs, 21.3k against 18.1k tx/s); 1 and 64 clients unchanged.
 */
const INSTALL_HEADROOM_GROUPS = 8;

/** A committed, not yet installed block: the newest committed value of its address. */
interface OverlayEntry {
  data: Uint8Array;
  seq: number;
}

/** A place in the log: an absolute position and the seq of the record expected there. */
export interface LogEnd {
  abs: number;
  seq: number;
}

/** One install round: write these blocks home, then make `tail` the durable tail. */
export interface InstallCut {
  blocks: readonly (readonly [addr: number, entry: OverlayEntry])[];
  tail: TailPointer;
}

/**
 * The transactional disk: a write-ahead log over any BlockDevice (format in log-format.ts).
 *
 * Commit (group commit). Committers enqueue; one writer loop takes everything queued that
 * fits in free log space, packs it into as few records as header capacity allows, writes
 * them contiguously (one writev per contiguous run) and issues ONE flush, the commit point
 * of the whole group; when it has resolved (and the group before has been acknowledged)
 * the group's blocks go to an in-memory overlay of committed-but-not-installed blocks and
 * the committers are resolved. The writer appends the next group while a flush runs
 * (see #writeNextGroup). A group is whatever is queued when the writer
 * becomes free: no timers, so a run is a function of the order device promises resolve.
 *
 * Install (off the commit path, batched): write the overlay home, flush, write the new
 * tail pointer, flush; only then is log space behind the new tail reused and the
 * installed entries dropped from the overlay. Triggered when the free log space falls to a
 * few groups' worth (INSTALL_HEADROOM_GROUPS), when a commit waits for space
 * (back-pressure: commits wait, never fail), and on close().
 *
 * Concurrency control is optimistic: a transaction reads committed, durable data (and its
 * own writes); at commit its read set is validated against the newest versions, counting
 * queued and in-flight commits. On a conflict with an in-flight commit it waits for that
 * commit to settle, then runs fn again (fn may run more than once). Blind writes never
 * conflict. The log order is the queue order, and each transaction is validated against
 * everything queued before it, so the log order is a serial order: serializable, and
 * nothing waits on a lock, so nothing deadlocks.
 *
 * Ownership of blocks: every buffer the log holds as data (a transaction's writes, the
 * overlay, the clean cache of installed blocks) is immutable from the moment it enters:
 * write()/writev() and Transaction.write() copy the caller's bytes, writeOwned() takes a
 * buffer its caller gives up. So one buffer serves as the log record's data, the overlay
 * value, the block installed home and the clean-cache value, and readShared() hands it to
 * readers without a copy; read() copies only because its caller may modify the result.
 * The log's own copies are carved from shared slabs (block-allocator.ts), so a buffer
 * readShared() returns may be a view into a larger ArrayBuffer (mind byteOffset); read()
 * and Transaction.read() return a whole ArrayBuffer of the caller's own.
 *
 * Seams for the harness's deliberately broken variants (subclass and override; no test
 * branches in the hot path):
 *   appendRecords(records) how records reach the log; (b) headers and data in separate
 *                          flush epochs, header first
 *   flushLog()            the commit point; (a) ack before the flush: resolve at once
 *   committedEnd()        how far an acknowledged group lets installs retire; (f) to the
 *                          head, past a later group not yet durable
 *   install(cut)          writeHome, flush, writeTailPointer, flush; (d) retire before the
 *                          installed data is flushed
 *   writeHome / writeTailPointer  the two halves of install
 *   static Replay         the recovery pass class (log-replay.ts); (c) retire before replay
 *                          by overriding run(), (e) replay past a bad checksum or seq by
 *                          overriding accept()
 */
export class LogDisk implements TransactionalDisk, TxSource {
  /** The recovery pass open() runs; a subclass may swap it. */
  static Replay: typeof LogReplay = LogReplay;

  readonly blockSize: number;
  /** The data region's size: addresses 0..numBlocks-1. */
  readonly numBlocks: number;
  protected readonly device: BlockDevice;
  protected readonly layout: LogLayout;

  // Log positions are absolute (ever-growing); modulo logBlocks gives the place in the log.
  #tailAbs: number;
  #tailSeq: number;
  #tailSlot: 0 | 1;
  #headAbs: number;
  #nextSeq: number;
  /** End of the last published group: what an install may retire up to. */
  #committedAbs: number;
  #committedSeq: number;

  readonly #overlay = new Map<number, OverlayEntry>();
  /**
   * Installed blocks, kept after they leave the overlay so that hot blocks are not read
   * back from the device: address -> the value installed there, which is the committed
   * value whenever the address is not in the overlay (the overlay is looked up first, and
   * every later install of the address replaces the entry). Bounded, oldest install first out.
   */
  readonly #clean = new Map<number, Uint8Array>();
  readonly #versions = new Map<number, number>();
  /**
   * The version of every address not in #versions: at least the seq of every entry pruned
   * from it. An address is pruned once installed; a transaction that read it as "unknown"
   * before then sees the floor move and runs again (a false conflict, never a missed one).
   */
  #versionFloor = 0;
  readonly #inflight = new Map<number, Pending>();
  readonly #blocks: BlockAllocator;
  /** Record headers of the group being written (see #writeNextGroup). */
  #headerScratch = new Uint8Array(0);
  readonly #queue: Pending[] = [];
  #lastEnqueued: Pending | undefined;
  #writer: Promise<void> | undefined;
  /**
   * Settles when the newest appended group has been acknowledged (true) or failed (false):
   * groups are acknowledged in log order, each after its own flush and its predecessor.
   * Never rejects.
   */
  #acked: Promise<boolean> = Promise.resolve(true);
  /** Groups appended and not yet acknowledged or failed (0, 1 or 2: see #writeNextGroup). */
  #groupsInFlight = 0;
  /** Log blocks of the last group appended (for when to start an install). */
  #lastGroupBlocks = 1;
  #installing: Promise<void> | undefined;
  #activeTx = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  #failure: unknown;
  #hasFailed = false;

  /**
   * Groups written (one commit-point flush each), records, transactions, install rounds, and
   * groups appended while the previous group's flush was still running (for measurement and tests).
   */
  readonly stats = { groups: 0, records: 0, transactions: 0, installs: 0, pipelined: 0 };

  /**
   * Opens the log on a formatted device. Opening is recovery: committed records still in
   * the log are replayed home and retired before the disk serves anything.
   */
  static async open(device: BlockDevice): Promise<LogDisk> {
    const layout = await readLayout(device);
    const replay = new this.Replay(device, layout);
    const tail = await replay.run();
    return new this(device, layout, tail);
  }

  protected constructor(device: BlockDevice, layout: LogLayout, tail: TailPointer) {
    this.device = device;
    this.layout = layout;
    this.blockSize = layout.blockSize;
    this.numBlocks = layout.dataBlocks;
    this.#blocks = new BlockAllocator(layout.blockSize);
    this.#tailAbs = this.#headAbs = this.#committedAbs = tail.pos;
    this.#tailSeq = this.#nextSeq = this.#committedSeq = tail.seq;
    this.#tailSlot = tail.slot;
  }

  // ── public surface ───────────────────────────────────────────────────────

  async read(addr: number): Promise<Uint8Array> {
    this.#checkUsable();
    checkAddress(addr, this.numBlocks);
    // A whole ArrayBuffer of its own (BlockDevice.read): callers may use .buffer as the block.
    return (await this.readCommittedShared(addr)).slice();
  }

  /** A one-block transaction: durable when it resolves. */
  async write(addr: number, data: Uint8Array): Promise<void> {
    this.#checkUsable();
    checkAddress(addr, this.numBlocks);
    checkBlock(data, this.blockSize);
    return this.#enqueue([addr], [this.#blocks.copy(data)]).result;
  }

  /** Writes consecutive blocks, atomically when they fit in one transaction. */
  async writev(addr: number, blocks: readonly Uint8Array[]): Promise<void> {
    this.#checkUsable();
    if (blocks.length === 0) return;
    checkRange(addr, blocks.length, this.numBlocks);
    for (const b of blocks) checkBlock(b, this.blockSize);
    const copies = blocks.map((b) => this.#blocks.copy(b));
    const commits: Promise<void>[] = [];
    for (let i = 0; i < copies.length; i += this.layout.maxTxBlocks) {
      const chunk = copies.slice(i, i + this.layout.maxTxBlocks);
      commits.push(this.#enqueue(chunk.map((_, j) => addr + i + j), chunk).result);
    }
    await Promise.all(commits);
  }

  /**
   * Runs fn against a private view and commits its writes atomically and durably before
   * resolving with fn's result. fn may run more than once (after a conflicting commit), so
   * it must have no side effects outside the transaction. If fn throws, nothing is written.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError(`transaction takes a function, got ${fn === null ? 'null' : typeof fn}`);
    for (;;) {
      this.#checkUsable();
      const tx = new TxView(this);
      let result: T;
      let verdict: Pending | Promise<void> | null | undefined;
      this.#activeTx++;
      try {
        result = await fn(tx);
        tx.finish();
        this.#checkUsable();
        if (tx.writes.size > this.layout.maxTxBlocks) {
          throw new TransactionTooLargeError(
            `a transaction of ${tx.writes.size} blocks can never fit: at most ${this.layout.maxTxBlocks} per transaction with this log`,
          );
        }
        // Validation and enqueue happen in one synchronous step: nothing can commit between.
        verdict = this.#conflict(tx);
        if (verdict === undefined && tx.writes.size > 0) verdict = this.#enqueue([...tx.writes.keys()], [...tx.writes.values()]);
      } finally {
        tx.finish();
        this.#activeTx--;
      }
      if (verdict === undefined) return result; // read-only, and what it read is still current
      if (verdict === null) continue;
      if (verdict instanceof Promise) {
        await verdict;
        continue;
      }
      await verdict.result;
      return result;
    }
  }

  /** A barrier: every write or commit that resolved before it is already durable. */
  async flush(): Promise<void> {
    this.#checkUsable();
    const last = this.#lastEnqueued;
    if (last) await settledOf(last);
    if (this.#hasFailed) throw this.#failure;
  }

  /** Drains queued commits, installs everything, then closes the device. No background work is left. */
  async close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#closing = (async () => {
      try {
        while (this.#writer) await this.#writer;
        await this.#acked;
        while (!this.#hasFailed && this.#committedAbs !== this.#tailAbs) await this.#install();
        if (this.#installing) await this.#installing.catch(() => undefined);
      } catch {
        // A failure was recorded and reported to the committers it concerned.
      } finally {
        await this.device.close();
      }
    })();
    return this.#closing;
  }

  status(): StoreStatus {
    const below = (this.device as { status?: () => { disks?: { index: number; state: StoreStatus['disks'][number]['state'] }[]; degraded?: boolean } }).status?.();
    return {
      disks: below?.disks?.map((d) => ({ index: d.index, state: d.state })) ?? [],
      degraded: below?.degraded ?? false,
      log: { usedBlocks: this.#headAbs - this.#tailAbs, totalBlocks: this.layout.logBlocks },
      dataBlocks: this.layout.dataBlocks,
      blockSize: this.blockSize,
    };
  }

  /** The largest transaction this log takes, in blocks. */
  get maxTransactionBlocks(): number {
    return this.layout.maxTxBlocks;
  }

  // ── TxSource ─────────────────────────────────────────────────────────────

  versionOf(addr: number): number {
    return this.#versions.get(addr) ?? this.#versionFloor;
  }

  /** Entries in the version table (bounded by the overlay; for tests of the bound). */
  get trackedVersions(): number {
    return this.#versions.size;
  }

  /**
   * Committed data without a copy: an overlay or clean-cache buffer (immutable, see the
   * class comment), or the device's fresh copy. The caller must not modify it.
   */
  copyBlock(data: Uint8Array): Uint8Array {
    return this.#blocks.copy(data);
  }

  readCommittedShared(addr: number): Promise<Uint8Array> {
    try {
      this.#checkUsable();
    } catch (err) {
      return Promise.reject(err);
    }
    const e = this.#overlay.get(addr);
    if (e) return Promise.resolve(e.data);
    const c = this.#clean.get(addr);
    if (c) return Promise.resolve(c);
    return this.#readDevice(addr);
  }

  async #readDevice(addr: number): Promise<Uint8Array> {
    try {
      return await this.device.read(this.layout.dataStart + addr);
    } catch (err) {
      // Fail-stop: a device that said it has failed is not asked again, nor is the overlay trusted.
      if (err instanceof DeviceFailedError) this.#fail(err);
      throw err;
    }
  }

  // ── seams (see the class comment) ────────────────────────────────────────

  /** Writes records to the log: they are contiguous, so one writev (two at the wrap). */
  protected async appendRecords(records: readonly LogRecord[]): Promise<void> {
    const blocks: Uint8Array[] = [];
    for (const r of records) blocks.push(r.header, ...r.blocks);
    await this.writeLog(records[0].pos, blocks);
  }

  /** THE COMMIT POINT: the flush after the group's log writes. Its resolving is what lets the group's commits return. */
  protected flushLog(): Promise<void> {
    return this.device.flush();
  }

  /**
   * Where the committed log ends once a group is acknowledged: that group's own end, which
   * is what an install may retire up to. Not the head: with the writer's pipeline a later
   * group may be appended and not yet durable, and retiring it would let recovery skip it.
   */
  protected committedEnd(group: LogEnd, _head: LogEnd): LogEnd {
    return group;
  }

  /** Writes consecutive log blocks from an absolute log position. */
  protected writeLog(pos: number, blocks: readonly Uint8Array[]): Promise<void> {
    return writeLogBlocks(this.device, this.layout, pos, blocks);
  }

  /** One install round. The order is what keeps committed blocks: home, flush, tail, flush. */
  protected async install(cut: InstallCut): Promise<void> {
    await this.writeHome(cut.blocks);
    await this.device.flush();
    await this.writeTailPointer(cut.tail);
    await this.device.flush();
  }

  /** Writes blocks to their home addresses (sorted), one call per contiguous run. Not flushed. */
  protected async writeHome(blocks: InstallCut['blocks']): Promise<void> {
    let i = 0;
    while (i < blocks.length) {
      let j = i + 1;
      while (j < blocks.length && blocks[j][0] === blocks[j - 1][0] + 1) j++;
      await writeBlocks(this.device, this.layout.dataStart + blocks[i][0], blocks.slice(i, j).map(([, e]) => e.data));
      i = j;
    }
  }

  /** Writes the tail pointer to its slot. Not flushed. */
  protected writeTailPointer(tail: TailPointer): Promise<void> {
    return writeTail(this.device, this.layout, tail);
  }

  // ── commit machinery ─────────────────────────────────────────────────────

  /**
   * undefined: no conflict. null: a read address changed since it was read; run again now.
   * A promise: an in-flight commit writes an address this one read; run again after it.
   */
  #conflict(tx: TxView): Promise<void> | null | undefined {
    const writes = tx.writes.size > 0;
    for (const [addr, version] of tx.reads) {
      const inflight = writes ? this.#inflight.get(addr) : undefined;
      if (inflight) return settledOf(inflight);
      if (this.versionOf(addr) !== version) return null;
    }
    return undefined;
  }

  #enqueue(addrs: number[], blocks: Uint8Array[]): Pending {
    invariant(addrs.length > 0 && addrs.length <= this.layout.maxTxBlocks, 'enqueue of an empty or oversized transaction');
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const result = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const p: Pending = { addrs, blocks, resolve, reject, result };
    for (const a of addrs) this.#inflight.set(a, p);
    this.#queue.push(p);
    this.#lastEnqueued = p;
    this.#writer ??= this.#writeLoop();
    return p;
  }

  /**
   * The one writer. It clears #writer itself, in the same synchronous step that finds the
   * queue empty, so a commit enqueued at any later moment starts a new loop: there is no
   * window in which the queue holds work and #writer points at a loop that has finished.
   */
  async #writeLoop(): Promise<void> {
    try {
      // One microtask's grace lets callers that enqueue in the same tick (Promise.all of
      // writes) share the first group; a promise hop, not a timer, so runs stay deterministic.
      await null;
      for (;;) {
        if (this.#queue.length === 0 || this.#hasFailed) {
          this.#writer = undefined;
          return;
        }
        await this.#writeNextGroup();
      }
    } catch (err) {
      // Only a broken invariant gets here: nothing queued may wait forever on a dead writer.
      this.#fail(err);
      this.#writer = undefined;
      throw err;
    }
  }

  async #writeNextGroup(): Promise<void> {
    const free = this.layout.logBlocks - (this.#headAbs - this.#tailAbs);
    const cap = this.layout.headerCapacity;
    // The group's transactions are packed into as few records as their header capacity
    // allows: 16 one-block commits are one header and 16 data blocks, not 16 headers. A
    // transaction is never split between records (each record commits or not as a whole,
    // so a torn group can keep a prefix of its records, never part of a transaction), and
    // packing is safe because no transaction of the group is acknowledged before the
    // group's flush, when all of its records are durable.
    // Which record each transaction goes into, as [first transaction, end) runs.
    const runs: [number, number][] = [];
    let size = 0;
    let n = 0;
    let inRecord = 0;
    while (n < this.#queue.length) {
      const k = this.#queue[n].addrs.length;
      const opens = inRecord === 0 || inRecord + k > cap;
      const need = k + (opens ? 1 : 0);
      if (size + need > free) break;
      size += need;
      inRecord = opens ? k : inRecord + k;
      if (opens) runs.push([n, n + 1]);
      else runs[runs.length - 1][1] = n + 1;
      n++;
    }
    if (n === 0) {
      // Back-pressure: the next commit waits for the groups in flight, then for an install to free log space.
      if (this.#groupsInFlight > 0) {
        await this.#acked;
        return;
      }
      invariant(this.#committedAbs > this.#tailAbs, 'the log is full but holds nothing to install');
      try {
        await this.#install();
      } catch {
        // Recorded by #fail; the loop ends.
      }
      return;
    }
    const group = this.#queue.splice(0, n);
    // The group's headers go into one scratch buffer that every group reuses: the device
    // below keeps no reference once its write settles (BlockDevice.write), appendRecords
    // settles only after every write of the group has, and the next group is built only
    // after that (after a failed append nothing more is written). No header allocation per
    // group: 4 KiB buffers are what drives the garbage collector's full collections here.
    const need = runs.length * this.blockSize;
    if (this.#headerScratch.length < need) this.#headerScratch = new Uint8Array(Math.max(need, 2 * this.#headerScratch.length));
    const headers = this.#headerScratch.subarray(0, need);
    headers.fill(0);
    const seqs: number[] = [];
    const records: LogRecord[] = runs.map(([from, to], r) => {
      const seq = this.#nextSeq++;
      const pos = this.#headAbs;
      let addrs: number[];
      let blocks: Uint8Array[];
      if (to - from === 1) {
        addrs = group[from].addrs;
        blocks = group[from].blocks;
      } else {
        addrs = [];
        blocks = [];
        for (let i = from; i < to; i++) {
          for (const a of group[i].addrs) addrs.push(a);
          for (const b of group[i].blocks) blocks.push(b);
        }
      }
      for (let i = from; i < to; i++) seqs.push(seq);
      this.#headAbs += 1 + addrs.length;
      const header = headers.subarray(r * this.blockSize, (r + 1) * this.blockSize);
      return { pos, seq, addrs, blocks, header: encodeRecordHeader(this.layout, pos, seq, addrs, blocks, header) };
    });
    invariant(this.#headAbs - this.#tailAbs <= this.layout.logBlocks, 'a group overran the log');
    this.#lastGroupBlocks = size;
    try {
      await this.appendRecords(records);
    } catch (err) {
      this.#fail(err);
      for (const p of group) p.reject(err);
      return;
    }
    // Pipelined: the group's flush is requested now, and the writer goes on to append the
    // next group while it runs, so the disk is not idle while commits are acknowledged and
    // the next group is built. Each flush starts after its group's writes (the device
    // serializes flushes it is asked for while one runs), and a group is acknowledged only
    // after its own flush and its predecessor's acknowledgement: a group is never reported
    // committed before every group before it in the log is durable. At most two groups are
    // in flight: the writer waits for the older one before building a third. From here the
    // group is off the queue, so whatever happens must settle it through #acknowledge: a
    // flush that throws instead of rejecting becomes a rejection.
    let durable: Promise<void>;
    try {
      durable = this.flushLog();
    } catch (err) {
      durable = Promise.reject(err);
    }
    const previous = this.#acked;
    const end: LogEnd = { abs: this.#headAbs, seq: this.#nextSeq };
    this.#groupsInFlight++;
    this.#acked = this.#acknowledge(group, seqs, records.length, end, durable, previous);
    if (this.#groupsInFlight > 1) {
      this.stats.pipelined++;
      await previous;
    }
  }

  /** Acknowledges a group once its flush and every earlier group are done; fails it otherwise. */
  async #acknowledge(
    group: readonly Pending[],
    seqs: readonly number[],
    records: number,
    end: LogEnd,
    durable: Promise<void>,
    previous: Promise<boolean>,
  ): Promise<boolean> {
    let failure: unknown;
    let failed = false;
    try {
      await durable;
    } catch (err) {
      failure = err;
      failed = true;
    }
    const previousOk = await previous;
    this.#groupsInFlight--;
    if (!failed && !previousOk) {
      // A group behind an unacknowledged one is not reported committed either.
      failure = this.#failure;
      failed = true;
    }
    if (failed) {
      this.#fail(failure);
      for (const p of group) p.reject(failure);
      return false;
    }
    this.#publish(group, seqs, end);
    this.stats.groups++;
    this.stats.records += records;
    this.stats.transactions += group.length;
    for (const p of group) p.resolve();
    const free = this.layout.logBlocks - (this.#headAbs - this.#tailAbs);
    const headroom = Math.min(this.layout.logBlocks / 2, Math.max(this.layout.logBlocks / 8, INSTALL_HEADROOM_GROUPS * this.#lastGroupBlocks));
    if (free <= headroom) this.#install().catch(() => undefined);
    return true;
  }

  /** seqs[i]: the seq of the record group[i] went into. Later transactions of a record win, as in replay. */
  #publish(group: readonly Pending[], seqs: readonly number[], end: LogEnd): void {
    for (let i = 0; i < group.length; i++) {
      const p = group[i];
      const seq = seqs[i];
      for (let j = 0; j < p.addrs.length; j++) {
        const addr = p.addrs[j];
        this.#overlay.set(addr, { data: p.blocks[j], seq });
        this.#versions.set(addr, seq);
        if (this.#inflight.get(addr) === p) this.#inflight.delete(addr);
      }
    }
    const committed = this.committedEnd(end, { abs: this.#headAbs, seq: this.#nextSeq });
    this.#committedAbs = committed.abs;
    this.#committedSeq = committed.seq;
  }

  /** Starts an install round, or joins the one running. */
  #install(): Promise<void> {
    this.#installing ??= this.#installRound().finally(() => {
      this.#installing = undefined;
    });
    return this.#installing;
  }

  async #installRound(): Promise<void> {
    if (this.#hasFailed || this.#committedAbs === this.#tailAbs) return;
    const blocks = [...this.#overlay].sort((x, y) => x[0] - y[0]);
    const tailAbs = this.#committedAbs;
    const tail: TailPointer = { pos: tailAbs % this.layout.logBlocks, seq: this.#committedSeq, slot: this.#tailSlot === 0 ? 1 : 0 };
    try {
      // Inside the try: a broken invariant fails the store rather than leaving a writer
      // that waits for space to retry an install that can never free any.
      invariant(tail.seq > this.#tailSeq, 'an install that does not move the tail');
      await this.install({ blocks, tail });
    } catch (err) {
      this.#fail(err);
      throw err;
    }
    this.#tailAbs = tailAbs;
    this.#tailSeq = tail.seq;
    this.#tailSlot = tail.slot;
    for (const [addr, e] of blocks) {
      if (this.#overlay.get(addr) !== e) continue;
      this.#overlay.delete(addr);
      this.#clean.delete(addr);
      if (this.#clean.size >= CLEAN_CACHE_BLOCKS) this.#clean.delete(this.#clean.keys().next().value!);
      this.#clean.set(addr, e.data);
      // Installed: the address falls back to the floor, raised past its version so that a
      // transaction that read it before still sees a change. The table stays bounded by the overlay.
      const v = this.#versions.get(addr);
      if (v !== undefined) {
        if (v > this.#versionFloor) this.#versionFloor = v;
        this.#versions.delete(addr);
      }
    }
    this.stats.installs++;
  }

  #fail(err: unknown): void {
    if (!this.#hasFailed) {
      this.#hasFailed = true;
      this.#failure = err;
    }
    for (const p of this.#queue.splice(0)) p.reject(err);
  }

  #checkUsable(): void {
    if (this.#closed) throw new ClosedError('store');
    // A device that says it has failed (BlockDevice.failed) fails the store at once,
    // even for a call the overlay could answer without touching it: fail-stop is for every call.
    if (!this.#hasFailed && this.device.failed === true) {
      this.#fail(new DeviceFailedError('the device under the log has failed'));
    }
    if (this.#hasFailed) throw this.#failure;
  }
}
