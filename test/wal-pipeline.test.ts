import { describe, expect, it } from 'vitest';
import { AbstractBlockDevice } from '../src/device/abstract-block-device.ts';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { DeviceFailedError } from '../src/errors.ts';
import { LogDisk } from '../src/wal/log-disk.ts';
import { formatLog, readLayout, readTail } from '../src/wal/log-format.ts';
import { LogReplay } from '../src/wal/log-replay.ts';

/**
 * The commit writer's pipeline (two groups in flight) and record packing.
 *
 * GateDevice is a device with a volatile cache whose flushes the test settles by hand:
 * while `hold` is set, every flush call is parked until the test resolves or rejects it,
 * in any order; otherwise a flush completes after one turn of the event loop. A flush
 * makes durable what was written before it was called. image() is what a power cut
 * leaves: the durable blocks, plus any pending writes the test chooses to keep.
 */
const BS = 512; // a record header holds (512 - 20) / 4 = 123 addresses
const blk = (v: number) => new Uint8Array(BS).fill(v);

interface PendingWrite {
  seq: number;
  addr: number;
  data: Uint8Array;
}
interface FlushCall {
  index: number;
  upto: number;
  done: boolean;
  release(): void;
  fail(err?: unknown): void;
}

class GateDevice extends AbstractBlockDevice {
  readonly latest = new Map<number, Uint8Array>();
  readonly durable = new Map<number, Uint8Array>();
  pending: PendingWrite[] = [];
  readonly flushes: FlushCall[] = [];
  /** Log-region writes (address < logEnd) as [first address, block count], in call order. */
  readonly logWrites: [number, number][] = [];
  logEnd = 0;
  hold = false;
  #seq = 0;
  /** Called before a writev takes effect; may throw to fail it. */
  beforeWritev: ((addr: number, n: number) => void) | undefined;

  protected async _read(addr: number) {
    return (this.latest.get(addr) ?? new Uint8Array(this.blockSize)).slice();
  }
  protected async _write(addr: number, data: Uint8Array) {
    this.#put(addr, data);
  }
  protected override async _writev(addr: number, blocks: readonly Uint8Array[]) {
    this.beforeWritev?.(addr, blocks.length);
    if (addr < this.logEnd) this.logWrites.push([addr, blocks.length]);
    for (let i = 0; i < blocks.length; i++) this.#put(addr + i, blocks[i]);
  }
  #put(addr: number, data: Uint8Array) {
    const copy = new Uint8Array(data);
    this.pending.push({ seq: ++this.#seq, addr, data: copy });
    this.latest.set(addr, copy);
  }
  protected _flush(): Promise<void> {
    const upto = this.#seq;
    return new Promise<void>((resolve, reject) => {
      const call: FlushCall = {
        index: this.flushes.length,
        upto,
        done: false,
        release: () => {
          if (call.done) return;
          call.done = true;
          this.#complete(upto);
          resolve();
        },
        fail: (err = new DeviceFailedError('flush failed')) => {
          if (call.done) return;
          call.done = true;
          reject(err);
        },
      };
      this.flushes.push(call);
      if (!this.hold) setImmediate(() => call.release());
    });
  }
  #complete(upto: number) {
    const rest: PendingWrite[] = [];
    for (const p of this.pending) {
      if (p.seq <= upto) this.durable.set(p.addr, p.data);
      else rest.push(p);
    }
    this.pending = rest;
  }
  protected async _close() {}
  fail(reason = 'failed on purpose') {
    this.markFailed(reason);
  }
  /** Parked flushes, oldest first. */
  get parked(): FlushCall[] {
    return this.flushes.filter((f) => !f.done);
  }
  /** Stops parking: every parked flush completes, later ones complete on their own. */
  releaseAll() {
    this.hold = false;
    for (const f of this.parked) f.release();
  }
  /** The blocks a power cut leaves: durable ones, then the pending writes `keep` accepts, in order. */
  image(keep: (w: PendingWrite) => boolean = () => false): MemBlockDevice {
    const m = new MemBlockDevice({ numBlocks: this.numBlocks, blockSize: this.blockSize });
    const blocks = new Map(this.durable);
    for (const p of this.pending) if (keep(p)) blocks.set(p.addr, p.data);
    for (const [a, b] of blocks) void m.write(a, b);
    return m;
  }
}

/** Counts the records the last recovery replayed. */
let lastReplayed = -1;
class CountingReplay extends LogReplay {
  override async run() {
    const t = await super.run();
    lastReplayed = this.replayed;
    return t;
  }
}
class CountingLogDisk extends LogDisk {
  static override Replay = CountingReplay;
}

const turns = async (n = 4) => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

type State = 'pending' | 'resolved' | 'rejected';
/** Watches a promise's fate without leaving a rejection unhandled; `order` records resolutions. */
function track<T>(p: Promise<T>, name: string, order: string[] = []) {
  const t = { state: 'pending' as State, error: undefined as unknown, name };
  p.then(
    () => {
      t.state = 'resolved';
      order.push(name);
    },
    (e: unknown) => {
      t.state = 'rejected';
      t.error = e;
    },
  );
  return t;
}

async function setup(logBlocks: number, dataBlocks = 64) {
  const dev = new GateDevice(3 + logBlocks + dataBlocks, BS);
  await formatLog(dev, { logBlocks });
  dev.logEnd = 3 + logBlocks;
  const disk = await LogDisk.open(dev);
  const layout = await readLayout(dev);
  // Count from here: format and recovery flushed and wrote the log region too.
  dev.flushes.length = 0;
  dev.logWrites.length = 0;
  return { dev, disk, layout };
}

async function values(disk: LogDisk, addrs: number[]): Promise<number[]> {
  const out: number[] = [];
  for (const a of addrs) {
    const b = await disk.read(a);
    expect(b.every((x) => x === b[0]), `address ${a} holds one value`).toBe(true);
    out.push(b[0]);
  }
  return out;
}

describe('two commit groups in flight', () => {
  it('a group whose flush finishes first waits for the group ahead; a third group waits for a slot', async () => {
    const { dev, disk } = await setup(64);
    dev.hold = true;
    const order: string[] = [];
    const g1 = [0, 1].map((a) => track(disk.write(a, blk(1)), `g1:${a}`, order));
    await turns();
    expect(dev.parked.length).toBe(1);
    const g2 = [2, 3].map((a) => track(disk.write(a, blk(2)), `g2:${a}`, order));
    await turns();
    expect(dev.parked.length, 'the second group is appended and its flush requested').toBe(2);
    expect(dev.logWrites.length).toBe(2);
    const g3 = track(disk.write(4, blk(3)), 'g3', order);
    await turns();
    expect(dev.logWrites.length, 'no third group while two are in flight').toBe(2);
    // Nothing is visible before it is acknowledged.
    expect(await values(disk, [0, 2])).toEqual([0, 0]);

    dev.flushes[1].release(); // the newer group's flush finishes first
    await turns(6);
    expect([...g1, ...g2, g3].map((t) => t.state)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    expect(await values(disk, [2, 3])).toEqual([0, 0]);

    dev.flushes[0].release();
    await turns(6);
    expect(order).toEqual(['g1:0', 'g1:1', 'g2:2', 'g2:3']);
    expect(await values(disk, [0, 1, 2, 3])).toEqual([1, 1, 2, 2]);
    expect(dev.logWrites.length, 'the third group goes out once a slot is free').toBe(3);
    dev.releaseAll();
    await turns(4);
    expect(g3.state).toBe('resolved');
    expect(disk.stats.pipelined).toBeGreaterThanOrEqual(1);
    await disk.close();
  });

  it("the older group's flush fails after the newer one's succeeded: nothing of either is acknowledged and nobody hangs", async () => {
    const { dev, disk } = await setup(64);
    dev.hold = true;
    const g1 = track(disk.write(0, blk(1)), 'g1');
    await turns();
    const g2 = track(disk.write(1, blk(2)), 'g2');
    await turns();
    const g3 = track(disk.write(2, blk(3)), 'g3'); // queued behind two groups in flight
    const fl = track(disk.flush(), 'flush');
    const tx = track(
      disk.transaction(async (t) => {
        await t.read(1); // written by the appended, unacknowledged second group
        t.write(3, blk(4));
      }),
      'tx',
    );
    await turns();
    expect(dev.parked.length).toBe(2);
    dev.flushes[1].release();
    await turns();
    dev.flushes[0].fail(new DeviceFailedError('flush 1 failed'));
    await turns(8);
    for (const t of [g1, g2, g3, fl, tx]) expect(t.state, t.name).toBe('rejected');
    expect(g2.error).toMatchObject({ code: 'ERR_DEVICE_FAILED' });
    await expect(disk.write(5, blk(5))).rejects.toMatchObject({ code: 'ERR_DEVICE_FAILED' });
    await expect(disk.read(5)).rejects.toMatchObject({ code: 'ERR_DEVICE_FAILED' });
    const closed = track(disk.close(), 'close');
    await turns(4);
    expect(closed.state).toBe('resolved');
  });

  it("the newer group's flush fails: the older is acknowledged and recovered, the newer is rejected", async () => {
    const { dev, disk } = await setup(64);
    dev.hold = true;
    const g1 = [0, 1].map((a) => track(disk.write(a, blk(1)), `g1:${a}`));
    await turns();
    const g2 = track(
      disk.transaction((t) => {
        t.write(2, blk(2));
        t.write(3, blk(2));
      }),
      'g2',
    );
    await turns();
    expect(dev.parked.length).toBe(2);
    dev.flushes[1].fail();
    await turns();
    expect(g2.state).toBe('pending'); // judged only after the group ahead of it
    dev.flushes[0].release();
    await turns(6);
    expect(g1.map((t) => t.state)).toEqual(['resolved', 'resolved']);
    expect(g2.state).toBe('rejected');
    const closed = track(disk.close(), 'close');
    await turns(4);
    expect(closed.state).toBe('resolved');
    // Power cut: the second group's log writes were never made durable.
    const again = await LogDisk.open(dev.image());
    expect(await values(again, [0, 1, 2, 3])).toEqual([1, 1, 0, 0]);
    await again.close();
  });

  it("the device fails during the newer group's append: the older group is acknowledged once its flush completes", async () => {
    const { dev, disk, layout } = await setup(64);
    dev.hold = true;
    const g1 = track(disk.write(0, blk(1)), 'g1');
    await turns();
    expect(dev.parked.length).toBe(1);
    dev.beforeWritev = (addr) => {
      if (addr >= layout.logStart && addr < layout.dataStart) {
        dev.fail();
        throw new DeviceFailedError('died during the append');
      }
    };
    const g2 = track(disk.write(1, blk(2)), 'g2');
    const g3 = track(disk.write(2, blk(3)), 'g3');
    await turns();
    expect(g2.state).toBe('rejected');
    expect(g3.state).toBe('rejected');
    expect(g1.state).toBe('pending');
    dev.flushes[0].release(); // the flush was issued before the failure and completes
    await turns();
    expect(g1.state).toBe('resolved');
    const closed = track(disk.close(), 'close');
    await turns(4);
    expect(closed.state).toBe('resolved');
    const again = await LogDisk.open(dev.image());
    expect(await values(again, [0, 1, 2])).toEqual([1, 0, 0]);
    await again.close();
  });

  it('close() with two groups in flight waits for both, acknowledges them and leaves nothing to replay', async () => {
    const { dev, disk } = await setup(64);
    dev.hold = true;
    const g1 = [0, 1].map((a) => track(disk.write(a, blk(1)), 'g1'));
    await turns();
    const g2 = [2, 3].map((a) => track(disk.write(a, blk(2)), 'g2'));
    await turns();
    expect(dev.parked.length).toBe(2);
    const closed = track(disk.close(), 'close');
    await turns();
    expect(closed.state).toBe('pending');
    dev.releaseAll();
    await turns(10);
    expect(closed.state).toBe('resolved');
    for (const t of [...g1, ...g2]) expect(t.state).toBe('resolved');
    expect(disk.stats.installs).toBeGreaterThanOrEqual(1);
    lastReplayed = -1;
    const again = await CountingLogDisk.open(dev.image());
    expect(lastReplayed, 'close installed everything: the log is empty').toBe(0);
    expect(await values(again, [0, 1, 2, 3])).toEqual([1, 1, 2, 2]);
    await again.close();
  });

  it('flush() waits for both groups in flight and reports the failure of either', async () => {
    const { dev, disk } = await setup(64);
    dev.hold = true;
    void disk.write(0, blk(1));
    await turns();
    void disk.write(1, blk(2));
    await turns();
    const fl = track(disk.flush(), 'flush');
    dev.flushes[0].release();
    await turns();
    expect(fl.state, 'the second group is still in flight').toBe('pending');
    dev.flushes[1].release();
    await turns();
    expect(fl.state).toBe('resolved');
    dev.hold = true;
    const w = track(disk.write(2, blk(3)), 'w');
    await turns();
    const w2 = track(disk.write(3, blk(4)), 'w2');
    await turns();
    const fl2 = track(disk.flush(), 'flush2');
    dev.parked[0].release();
    await turns();
    dev.parked[0].fail();
    await turns(6);
    expect([w.state, w2.state, fl2.state]).toEqual(['resolved', 'rejected', 'rejected']);
    await disk.close();
  });
});

describe('installs and the committed end', () => {
  it('an install started by the older group retires the log only to that group’s end; the newer group survives a crash', async () => {
    const { dev, disk, layout } = await setup(16);
    const start = await readTail(dev, layout);
    dev.hold = true;
    // Group 1: seven one-block commits, one record of 8 blocks (half the log: its ack starts an install).
    const g1 = [5, 6, 7, 8, 9, 10, 11].map((a) => track(disk.write(a, blk(a === 5 ? 0xa1 : 1)), 'g1'));
    await turns();
    const g2 = track(disk.write(5, blk(0xb2)), 'g2'); // the same address, in the group behind
    await turns();
    expect(dev.parked.length).toBe(2);
    dev.hold = false; // the install's own flushes complete; the second commit flush stays parked
    dev.flushes[0].release();
    for (let i = 0; i < 50 && disk.stats.installs === 0; i++) await turns(1);
    expect(disk.stats.installs).toBe(1);
    for (const t of g1) expect(t.state).toBe('resolved');
    expect(g2.state).toBe('pending');
    const tail = await readTail(dev, layout);
    expect(tail.pos, 'the tail stops at the end of the acknowledged group').toBe((start.pos + 8) % 16);
    expect(tail.seq).toBe(start.seq + 1);
    expect((await disk.read(5))[0]).toBe(0xa1);
    dev.flushes[1].release();
    await turns(4);
    expect(g2.state).toBe('resolved');
    expect((await disk.read(5))[0]).toBe(0xb2);
    // Power cut now: the acknowledged second group must come back by replay.
    lastReplayed = -1;
    const again = await CountingLogDisk.open(dev.image());
    expect(lastReplayed).toBe(1);
    expect((await again.read(5))[0]).toBe(0xb2);
    expect((await again.read(6))[0]).toBe(1);
    await again.close();
    await disk.close();
  });

  it('a full log with groups in flight waits for them, installs, and goes on (no spin, no broken invariant)', async () => {
    const { dev, disk } = await setup(8);
    dev.hold = true;
    const order: string[] = [];
    const g1 = [0, 1, 2].map((a) => track(disk.write(a, blk(1)), `g1`, order));
    await turns();
    const g2 = [3, 4, 5].map((a) => track(disk.write(a, blk(2)), `g2`, order));
    await turns();
    // 4 + 4 blocks: the log is full; the next commit waits for space.
    const g3 = [
      track(disk.write(0, blk(3)), 'g3', order),
      track(
        disk.transaction(async (t) => {
          const v = (await t.read(3))[0]; // written by the second group, not yet acknowledged
          t.write(6, blk(v + 10));
          t.write(7, blk(v + 10));
        }),
        'g3tx',
        order,
      ),
    ];
    await turns(6);
    expect(dev.logWrites.length).toBe(2);
    expect(dev.parked.length).toBe(2);
    dev.hold = false;
    dev.flushes[0].release();
    await turns(10);
    expect(g1.map((t) => t.state)).toEqual(['resolved', 'resolved', 'resolved']);
    expect(g3.map((t) => t.state)).toEqual(['pending', 'pending']);
    dev.flushes[1].release();
    for (let i = 0; i < 100 && g3.some((t) => t.state === 'pending'); i++) await turns(1);
    expect([...g1, ...g2, ...g3].map((t) => t.state).every((s) => s === 'resolved')).toBe(true);
    expect(await values(disk, [0, 1, 2, 3, 4, 5, 6, 7])).toEqual([3, 1, 1, 2, 2, 2, 12, 12]);
    await disk.close();
    const again = await LogDisk.open(dev.image());
    expect(await values(again, [0, 1, 2, 3, 4, 5, 6, 7])).toEqual([3, 1, 1, 2, 2, 2, 12, 12]);
    await again.close();
  });
});

describe('back-pressure against the largest transaction', () => {
  it('a transaction of logBlocks - 1 blocks queued behind two groups in flight waits for the whole log and commits', async () => {
    const { dev, disk } = await setup(8);
    expect(disk.maxTransactionBlocks).toBe(7);
    dev.hold = true;
    const g1 = track(disk.write(0, blk(1)), 'g1');
    await turns();
    const g2 = track(disk.write(1, blk(2)), 'g2');
    await turns();
    const big = track(
      disk.transaction((t) => {
        for (let a = 10; a < 17; a++) t.write(a, blk(3));
      }),
      'big',
    );
    const after = track(disk.write(0, blk(4)), 'after'); // enqueued at once, before the transaction (which awaits its fn)
    await turns(6);
    expect(dev.logWrites.length).toBe(2);
    dev.releaseAll();
    for (let i = 0; i < 100 && big.state === 'pending'; i++) await turns(1);
    expect([g1.state, g2.state, big.state, after.state]).toEqual(['resolved', 'resolved', 'resolved', 'resolved']);
    expect(disk.stats.installs, 'the log had to be emptied first').toBeGreaterThanOrEqual(1);
    // Three 2-block records, then the big one (8 blocks, in two calls where it wraps).
    expect(dev.logWrites.reduce((n, [, k]) => n + k, 0)).toBe(3 * 2 + 8);
    expect(await values(disk, [0, 1, 10, 16])).toEqual([4, 2, 3, 3]);
    await disk.close();
    const again = await LogDisk.open(dev.image());
    expect(await values(again, [0, 1, 10, 16])).toEqual([4, 2, 3, 3]);
    await again.close();
  });
});

describe('a torn group keeps a prefix of whole records', () => {
  /** One group of two records: a 123-block transaction fills the first header, a 17-block one opens the second. */
  async function twoRecordGroup() {
    const { dev, disk, layout } = await setup(300, 256);
    const start = await readTail(dev, layout);
    dev.hold = true;
    const a = track(disk.writev(0, Array.from({ length: 140 }, () => blk(0xaa))), 'a'); // split 123 + 17
    const b = track(disk.write(200, blk(0xbb)), 'b'); // packed with the 17 into the second record
    await turns();
    expect(dev.logWrites.length).toBe(1);
    expect(dev.logWrites[0][1]).toBe(1 + 123 + 1 + 18);
    const logAddr = (pos: number) => layout.logAddr(start.pos + pos);
    const rec1 = new Set(Array.from({ length: 124 }, (_, i) => logAddr(i)));
    const rec2Header = logAddr(124);
    const rec2 = new Set(Array.from({ length: 19 }, (_, i) => logAddr(124 + i)));
    return { dev, disk, a, b, rec1, rec2, rec2Header };
  }
  const first = Array.from({ length: 123 }, (_, i) => i);
  const rest = [...Array.from({ length: 17 }, (_, i) => 123 + i), 200];

  it('record 1 durable, record 2 lost: the first record’s transaction is whole, the second’s absent', async () => {
    const { dev, disk, a, b, rec1 } = await twoRecordGroup();
    const again = await LogDisk.open(dev.image((w) => rec1.has(w.addr)));
    expect(new Set(await values(again, first))).toEqual(new Set([0xaa]));
    expect(new Set(await values(again, rest))).toEqual(new Set([0]));
    await again.close();
    expect([a.state, b.state]).toEqual(['pending', 'pending']);
    dev.releaseAll();
    await disk.close();
  });

  it('record 1 durable, record 2 header durable without its data: still only record 1', async () => {
    const { dev, disk, rec1, rec2Header } = await twoRecordGroup();
    const again = await LogDisk.open(dev.image((w) => rec1.has(w.addr) || w.addr === rec2Header));
    expect(new Set(await values(again, first))).toEqual(new Set([0xaa]));
    expect(new Set(await values(again, rest))).toEqual(new Set([0]));
    await again.close();
    dev.releaseAll();
    await disk.close();
  });

  it('record 2 durable, record 1 lost: nothing of the group', async () => {
    const { dev, disk, rec2 } = await twoRecordGroup();
    const again = await LogDisk.open(dev.image((w) => rec2.has(w.addr)));
    expect(new Set(await values(again, [...first, ...rest]))).toEqual(new Set([0]));
    await again.close();
    dev.releaseAll();
    await disk.close();
  });

  it('both records durable and acknowledged: all of it, by replay', async () => {
    const { dev, disk, a, b } = await twoRecordGroup();
    dev.releaseAll();
    await turns(4);
    expect([a.state, b.state]).toEqual(['resolved', 'resolved']);
    expect(disk.stats.records).toBe(2);
    lastReplayed = -1;
    const again = await CountingLogDisk.open(dev.image());
    expect(lastReplayed).toBe(2);
    expect(new Set(await values(again, first))).toEqual(new Set([0xaa]));
    expect(await values(again, rest)).toEqual([...Array.from({ length: 17 }, () => 0xaa), 0xbb]);
    await again.close();
    await disk.close();
  });
});

describe('one address written twice in one packed record', () => {
  it('the last writer in commit order wins, in memory and after replay (no install in between)', async () => {
    const { dev, disk } = await setup(64);
    dev.hold = true;
    // Enqueued synchronously, in this order, into one group and one record.
    const ps = [disk.write(5, blk(1)), disk.write(6, blk(1)), disk.writev(5, [blk(2), blk(2)]), disk.write(5, blk(3)), disk.writev(4, [blk(4), blk(4)])];
    await turns();
    expect(dev.logWrites.length).toBe(1);
    expect(dev.logWrites[0][1]).toBe(1 + 7);
    expect(await values(disk, [4, 5, 6])).toEqual([0, 0, 0]);
    dev.releaseAll();
    await Promise.all(ps);
    expect(disk.stats.records).toBe(1);
    expect(await values(disk, [4, 5, 6])).toEqual([4, 4, 2]);
    // A transaction sees the same.
    expect(await disk.transaction(async (t) => [(await t.read(4))[0], (await t.read(5))[0], (await t.read(6))[0]])).toEqual([4, 4, 2]);
    lastReplayed = -1;
    const again = await CountingLogDisk.open(dev.image());
    expect(lastReplayed).toBe(1);
    expect(await values(again, [4, 5, 6])).toEqual([4, 4, 2]);
    await again.close();
    await disk.close();
  });

  it('two groups in flight writing one address: the later group wins before and after an install between their acks', async () => {
    const { dev, disk } = await setup(8);
    dev.hold = true;
    const g1 = [disk.write(3, blk(1)), disk.write(3, blk(2)), disk.write(4, blk(2))];
    await turns();
    const g2 = disk.write(3, blk(9));
    await turns();
    expect(dev.parked.length).toBe(2);
    dev.hold = false;
    dev.flushes[0].release(); // acks group 1 (half the log): an install of 3=2, 4=2 starts
    await Promise.all(g1);
    for (let i = 0; i < 50 && disk.stats.installs === 0; i++) await turns(1);
    expect(disk.stats.installs).toBe(1);
    expect((await disk.read(3))[0]).toBe(2);
    dev.flushes[1].release();
    await g2;
    expect((await disk.read(3))[0]).toBe(9);
    expect(await disk.transaction(async (t) => (await t.read(3))[0])).toBe(9);
    const again = await LogDisk.open(dev.image());
    expect(await values(again, [3, 4])).toEqual([9, 2]);
    await again.close();
    await disk.close();
  });
});

describe('optimistic transactions against groups in flight', () => {
  it('a transaction that read an address of an appended, unacknowledged group runs again and never commits a torn view', async () => {
    const { dev, disk } = await setup(64);
    // x (addr 0) and y (addr 1) are always written together.
    await disk.transaction((t) => {
      t.write(0, blk(1));
      t.write(1, blk(1));
    });
    const base = dev.flushes.length;
    dev.hold = true;
    const filler = disk.write(10, blk(7)); // group 1: keeps group 2 from being acknowledged
    await turns();
    const bump = disk.transaction(async (t) => {
      const x = (await t.read(0))[0];
      t.write(0, blk(x + 1));
      t.write(1, blk(x + 1));
    });
    await turns();
    expect(dev.parked.length, 'the bump is appended as a second group').toBe(2);
    let gate!: () => void;
    const opened = new Promise<void>((r) => (gate = r));
    let runs = 0;
    const seen: number[][] = [];
    const reader = disk.transaction(async (t) => {
      runs++;
      const x = (await t.read(0))[0];
      if (runs === 1) await opened; // the bump is acknowledged between our two reads
      const y = (await t.read(1))[0];
      seen.push([x, y]);
      t.write(20, blk(x));
      t.write(21, blk(y));
      return [x, y];
    });
    await turns();
    dev.flushes[base + 1].release(); // the bump's own flush first: still not acknowledged
    await turns();
    expect((await disk.read(0))[0]).toBe(1);
    dev.flushes[base].release();
    await Promise.all([filler, bump]);
    gate();
    dev.releaseAll();
    const got = await reader;
    expect(got[0]).toBe(got[1]);
    expect(got).toEqual([2, 2]);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(await values(disk, [0, 1, 20, 21])).toEqual([2, 2, 2, 2]);
    await disk.close();
  });

  it('concurrent increments across pipelined groups lose no update', async () => {
    const { dev, disk } = await setup(16);
    dev.hold = false;
    const n = 24;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        disk.transaction(async (t) => {
          const c = new DataView((await t.read(0)).buffer).getUint32(0);
          const b = new Uint8Array(BS);
          new DataView(b.buffer).setUint32(0, c + 1);
          t.write(0, b);
          t.write(1 + (i % 8), blk(i));
        }),
      ),
    );
    expect(new DataView((await disk.read(0)).buffer).getUint32(0)).toBe(n);
    expect(dev.flushes.length).toBeGreaterThan(1);
    await disk.close();
    const again = await LogDisk.open(dev.image());
    expect(new DataView((await again.read(0)).buffer).getUint32(0)).toBe(n);
    await again.close();
  });
});
