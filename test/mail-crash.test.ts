import { describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { mailFsck } from '../src/mail/mail-fsck.ts';
import { MailStore } from '../src/mail/mail-store.ts';
import { openStore } from '../src/store/open-store.ts';
import { CrashClock, Crashed, CrashingDevice } from './helpers/devices.ts';

/**
 * Crash test of the mail store on the real stack (replicated pair + WAL): the workload
 * runs over two memory devices that stop persisting after N writes (flushes count too),
 * for every N up to the workload's total, then the store is recovered from what the
 * devices hold and checked: fsck clean, every acknowledged delivery present byte-exact
 * (unless a delete of it was started), every acknowledged delete gone, nothing else, and
 * a message to two recipients at both or at neither.
 */

const DEVICE_BLOCKS = 320;
const LOG_BLOCKS = 48;
const FORMAT = { maxUsers: 3, indexBlocksPerUser: 2, partitions: 4, maxMessageBytes: 20_000 };
const STORE_ID = 'cd'.repeat(16);

function msg(i: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let j = 0; j < size; j++) b[j] = (i * 31 + j * 7) & 0xff;
  b.write(`message ${i}|`, 0, 'latin1');
  return b;
}

/** A message in a mailbox: `user:content-in-hex`. */
const key = (user: string, m: Uint8Array) => `${user}:${Buffer.from(m).toString('hex')}`;

interface Log {
  /** Keys, by state. */
  delivered: Set<string>;
  deliveryStarted: Set<string>;
  deleted: Set<string>;
  deleteStarted: Set<string>;
}

const newLog = (): Log => ({ delivered: new Set(), deliveryStarted: new Set(), deleted: new Set(), deleteStarted: new Set() });

/** The message delivered to two recipients at once. */
const TWO_RECIPIENTS = ['ann', 'bo'];
const TO_BOTH = msg(7, 6000);

async function workload(devs: [CrashingDevice, CrashingDevice], log: Log): Promise<void> {
  const disk = await openStore({ devices: devs, logBlocks: LOG_BLOCKS });
  const store = await MailStore.open(disk, { create: true, ...FORMAT });
  await store.addUser('ann');
  await store.addUser('bo');
  const deliver = async (user: string, m: Buffer) => {
    log.deliveryStarted.add(key(user, m));
    await store.deliver(user, m);
    log.delivered.add(key(user, m));
  };
  const drain = async (user: string, keep: number) => {
    const ms = await store.pickup(user);
    for (const m of ms.slice(keep)) {
      log.deleteStarted.add(key(user, m.data));
      await store.delete(user, m.id);
      log.deleted.add(key(user, m.data));
    }
    store.unlock(user);
  };
  await Promise.all([deliver('ann', msg(1, 9000)), deliver('ann', msg(2, 100)), deliver('bo', msg(3, 5000))]);
  await drain('ann', 1);
  await Promise.all([deliver('ann', msg(4, 300)), deliver('bo', msg(5, 13_000)), drain('bo', 0)]);
  await deliver('ann', msg(6, 4100));
  await drain('ann', 2);
  for (const u of TWO_RECIPIENTS) log.deliveryStarted.add(key(u, TO_BOTH));
  await store.deliverMany(TWO_RECIPIENTS, TO_BOTH);
  for (const u of TWO_RECIPIENTS) log.delivered.add(key(u, TO_BOTH));
}

function pair(limit: number, inner?: [MemBlockDevice, MemBlockDevice], labels?: [CrashingDevice, CrashingDevice]): [CrashingDevice, CrashingDevice] {
  const clock = new CrashClock(limit);
  const mems = inner ?? [new MemBlockDevice({ numBlocks: DEVICE_BLOCKS }), new MemBlockDevice({ numBlocks: DEVICE_BLOCKS })];
  const label = (i: 0 | 1) => labels?.[i].label ?? { storeId: STORE_ID, index: i, epoch: 0 };
  return [new CrashingDevice(mems[0], clock, label(0)), new CrashingDevice(mems[1], clock, label(1))];
}

describe('mail store crash safety', () => {
  it('survives a crash after every write of a concurrent workload', async () => {
    const full = pair(Infinity);
    const fullLog = newLog();
    await workload(full, fullLog);
    const total = full[0].clock.count;
    expect(fullLog.delivered.size).toBe(8);
    expect(total).toBeGreaterThan(50);

    let crashesChecked = 0;
    for (let n = 0; n <= total; n++) {
      const devs = pair(n);
      const log = newLog();
      await workload(devs, log).catch((e) => {
        if (!(e instanceof Crashed)) throw e;
      });
      // Let stray background work (installs) hit the stopped devices before recovery.
      await new Promise((r) => setImmediate(r));

      // Recovery: fresh wrappers over the same memory, no limit.
      const after = pair(Infinity, [devs[0].inner, devs[1].inner], devs);
      const disk = await openStore({ devices: after, logBlocks: LOG_BLOCKS });
      const store = await MailStore.open(disk, { create: true, ...FORMAT });
      const fsck = await mailFsck(disk);
      expect(fsck.problems, `crash after ${n} writes`).toEqual([]);
      for (const u of ['ann', 'bo']) await store.addUser(u);

      const present = new Set<string>();
      for (const u of ['ann', 'bo']) {
        expect(store.isLocked(u)).toBe(false);
        for (const m of await store.pickup(u)) {
          expect(present.has(key(u, m.data)), `duplicate message after crash at ${n}`).toBe(false);
          present.add(key(u, m.data));
        }
        store.unlock(u);
      }
      for (const k of log.delivered) {
        if (!log.deleteStarted.has(k)) expect(present.has(k), `acknowledged delivery lost, crash at ${n}`).toBe(true);
      }
      for (const k of log.deleted) expect(present.has(k), `deleted message came back, crash at ${n}`).toBe(false);
      for (const k of present) expect(log.deliveryStarted.has(k), `unknown message after crash at ${n}`).toBe(true);
      const toBoth = TWO_RECIPIENTS.map((u) => present.has(key(u, TO_BOTH)));
      expect(toBoth[1], `message to two recipients at one only, crash at ${n}`).toBe(toBoth[0]);

      // The recovered store still works.
      await store.deliver('ann', msg(99, 7000));
      expect((await mailFsck(disk)).problems).toEqual([]);
      await disk.close();
      crashesChecked++;
    }
    expect(crashesChecked).toBe(total + 1);
  });
});
