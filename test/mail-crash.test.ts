import { describe, expect, it } from 'vitest';
import { AbstractBlockDevice } from '../src/device/abstract-block-device.ts';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { DeviceFailedError } from '../src/errors.ts';
import { mailFsck } from '../src/mail/mail-fsck.ts';
import { MailStore } from '../src/mail/mail-store.ts';
import { openStore } from '../src/store/open-store.ts';

/**
 * Crash test of the mail store on the real stack (replicated pair + WAL): the workload
 * runs over two memory devices that stop persisting after N writes (flushes count too),
 * for every N up to the workload's total, then the store is recovered from what the
 * devices hold and checked: fsck clean, every acknowledged delivery present byte-exact
 * (unless a delete of it was started), every acknowledged delete gone, nothing else.
 */

class StopClock {
  count = 0;
  constructor(readonly limit: number) {}
  tick(): void {
    if (this.count >= this.limit) throw new DeviceFailedError('stopped: simulated crash');
    this.count++;
  }
}

/** A device whose writes stop reaching `inner` once the shared clock runs out. */
class StoppingDevice extends AbstractBlockDevice {
  constructor(
    readonly inner: MemBlockDevice,
    readonly clock: StopClock,
  ) {
    super(inner.numBlocks, inner.blockSize);
  }
  protected async _read(addr: number) {
    if (this.clock.count >= this.clock.limit) throw new DeviceFailedError('stopped: simulated crash');
    return this.inner.read(addr);
  }
  protected async _write(addr: number, data: Uint8Array) {
    this.clock.tick();
    await this.inner.write(addr, data);
  }
  protected async _flush() {
    this.clock.tick();
  }
  protected async _close() {}
}

const DEVICE_BLOCKS = 320;
const LOG_BLOCKS = 48;
const FORMAT = { maxUsers: 3, indexBlocksPerUser: 2, partitions: 4, maxMessageBytes: 20_000 };

function msg(i: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let j = 0; j < size; j++) b[j] = (i * 31 + j * 7) & 0xff;
  b.write(`message ${i}|`, 0, 'latin1');
  return b;
}

interface Log {
  /** Content (hex) -> user, by state. */
  delivered: Map<string, string>;
  deliveryStarted: Map<string, string>;
  deleted: Set<string>;
  deleteStarted: Set<string>;
}

async function workload(devs: [StoppingDevice, StoppingDevice], log: Log): Promise<void> {
  const disk = await openStore({ devices: devs, logBlocks: LOG_BLOCKS });
  const store = await MailStore.open(disk, { create: true, ...FORMAT });
  await store.addUser('ann');
  await store.addUser('bo');
  const deliver = async (user: string, m: Buffer) => {
    const key = m.toString('hex');
    log.deliveryStarted.set(key, user);
    await store.deliver(user, m);
    log.delivered.set(key, user);
  };
  const drain = async (user: string, keep: number) => {
    const ms = await store.pickup(user);
    for (const m of ms.slice(keep)) {
      const key = Buffer.from(m.data).toString('hex');
      log.deleteStarted.add(key);
      await store.delete(user, m.id);
      log.deleted.add(key);
    }
    store.unlock(user);
  };
  await Promise.all([deliver('ann', msg(1, 9000)), deliver('ann', msg(2, 100)), deliver('bo', msg(3, 5000))]);
  await drain('ann', 1);
  await Promise.all([deliver('ann', msg(4, 300)), deliver('bo', msg(5, 13_000)), drain('bo', 0)]);
  await deliver('ann', msg(6, 4100));
  await drain('ann', 2);
}

function pair(limit: number, inner?: [MemBlockDevice, MemBlockDevice]): [StoppingDevice, StoppingDevice] {
  const clock = new StopClock(limit);
  const mems = inner ?? [new MemBlockDevice({ numBlocks: DEVICE_BLOCKS }), new MemBlockDevice({ numBlocks: DEVICE_BLOCKS })];
  return [new StoppingDevice(mems[0], clock), new StoppingDevice(mems[1], clock)];
}

describe('mail store crash safety', () => {
  it('survives a crash after every write of a concurrent workload', async () => {
    const full = pair(Infinity);
    const fullLog: Log = { delivered: new Map(), deliveryStarted: new Map(), deleted: new Set(), deleteStarted: new Set() };
    await workload(full, fullLog);
    const total = full[0].clock.count;
    expect(fullLog.delivered.size).toBe(6);
    expect(total).toBeGreaterThan(50);

    let crashesChecked = 0;
    for (let n = 0; n <= total; n++) {
      const devs = pair(n);
      const log: Log = { delivered: new Map(), deliveryStarted: new Map(), deleted: new Set(), deleteStarted: new Set() };
      await workload(devs, log).catch((e) => {
        if (!(e instanceof DeviceFailedError) && !String(e).includes('stopped')) throw e;
      });
      // Let stray background work (installs) hit the stopped devices before recovery.
      await new Promise((r) => setImmediate(r));

      // Recovery: fresh wrappers over the same memory, no limit.
      const after = pair(Infinity, [devs[0].inner, devs[1].inner]);
      const disk = await openStore({ devices: after, logBlocks: LOG_BLOCKS });
      const store = await MailStore.open(disk, { create: true, ...FORMAT });
      const fsck = await mailFsck(disk);
      expect(fsck.problems, `crash after ${n} writes`).toEqual([]);
      for (const u of ['ann', 'bo']) await store.addUser(u);

      const present = new Map<string, string>();
      for (const u of ['ann', 'bo']) {
        expect(store.isLocked(u)).toBe(false);
        for (const m of await store.pickup(u)) {
          const key = Buffer.from(m.data).toString('hex');
          expect(present.has(key), `duplicate message after crash at ${n}`).toBe(false);
          present.set(key, u);
        }
        store.unlock(u);
      }
      for (const [key, user] of log.delivered) {
        if (!log.deleteStarted.has(key)) expect(present.get(key), `acknowledged delivery lost, crash at ${n}`).toBe(user);
      }
      for (const key of log.deleted) expect(present.has(key), `deleted message came back, crash at ${n}`).toBe(false);
      for (const [key, user] of present) expect(log.deliveryStarted.get(key), `unknown message after crash at ${n}`).toBe(user);

      // The recovered store still works.
      await store.deliver('ann', msg(99, 7000));
      expect((await mailFsck(disk)).problems).toEqual([]);
      await disk.close();
      crashesChecked++;
    }
    expect(crashesChecked).toBe(total + 1);
  });
});
