import { describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { TwindiskError } from '../src/errors.ts';
import { mailFsck } from '../src/mail/mail-fsck.ts';
import { MailStore } from '../src/mail/mail-store.ts';
import { openStore, type Store } from '../src/store/open-store.ts';

const BS = 4096;

async function memStore(deviceBlocks = 2048, logBlocks = 512): Promise<{ disk: Store; devs: [MemBlockDevice, MemBlockDevice] }> {
  const devs: [MemBlockDevice, MemBlockDevice] = [new MemBlockDevice({ numBlocks: deviceBlocks }), new MemBlockDevice({ numBlocks: deviceBlocks })];
  return { disk: await openStore({ devices: devs, logBlocks }), devs };
}

function copyOf(d: MemBlockDevice): MemBlockDevice {
  const c = new MemBlockDevice({ numBlocks: d.numBlocks, blockSize: d.blockSize });
  for (const [a, b] of d.snapshot()) void c.write(a, b);
  return c;
}

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e instanceof TwindiskError ? e.code : `untyped: ${String(e)}`;
  }
  return 'no error';
}

async function contents(store: MailStore, user: string): Promise<Map<number, string>> {
  const ms = await store.pickup(user);
  store.unlock(user);
  return new Map(ms.map((m) => [m.id, Buffer.from(m.data).toString('hex')]));
}

describe('mail store', () => {
  it('delivers, picks up, deletes and unlocks, byte-exact, across block boundaries', async () => {
    const { disk } = await memStore();
    const store = await MailStore.open(disk, { create: true, maxUsers: 4 });
    await store.addUser('alice');
    await store.addUser('bob');
    const sizes = [0, 1, BS - 20, BS - 19, BS * 3 + 7, 200_000];
    const sent = new Map<number, Uint8Array>();
    for (const [i, n] of sizes.entries()) sent.set(await store.deliver('alice', bytes(n, i)), bytes(n, i));
    const bobId = await store.deliver('bob', bytes(10, 99));
    expect(new Set(sent.keys()).size).toBe(sizes.length);

    const got = await store.pickup('alice');
    expect(store.isLocked('alice')).toBe(true);
    expect(got.length).toBe(sizes.length);
    for (const m of got) expect(Buffer.from(m.data).equals(Buffer.from(sent.get(m.id)!))).toBe(true);

    const victim = got[4].id;
    await store.delete('alice', victim);
    store.unlock('alice');
    expect(store.isLocked('alice')).toBe(false);
    const after = await contents(store, 'alice');
    expect(after.size).toBe(sizes.length - 1);
    expect(after.has(victim)).toBe(false);
    expect([...(await contents(store, 'bob')).keys()]).toEqual([bobId]);

    // Ids are fresh: a new delivery never reuses the deleted id.
    const again = await store.deliver('alice', bytes(5, 5));
    expect(sent.has(again)).toBe(false);
    const report = await mailFsck(disk);
    expect(report.problems).toEqual([]);
    expect(report.messages).toBe(sizes.length + 1);
    await disk.close();
  });

  it('keeps messages and ids across a reopen, and opens every mailbox unlocked', async () => {
    const { disk, devs } = await memStore();
    const store = await MailStore.open(disk, { create: true, maxUsers: 4 });
    await store.addUser('carol');
    const id = await store.deliver('carol', bytes(9000, 1));
    await store.pickup('carol'); // left locked
    // A crash: the devices' contents survive, the process (store, locks) does not.
    const disk2 = await openStore({ devices: [copyOf(devs[0]), copyOf(devs[1])] });
    const store2 = await MailStore.open(disk2);
    expect(store2.users()).toEqual(['carol']);
    expect(store2.isLocked('carol')).toBe(false);
    const m = await store2.pickup('carol');
    expect(m.map((x) => x.id)).toEqual([id]);
    expect(Buffer.from(m[0].data).equals(Buffer.from(bytes(9000, 1)))).toBe(true);
    await disk2.close();
    await disk.close();
  });

  it('refuses bad input with typed errors and changes nothing', async () => {
    const { disk } = await memStore();
    const store = await MailStore.open(disk, { create: true, maxUsers: 4, maxMessageBytes: 10_000 });
    await store.addUser('dave');
    const id = await store.deliver('dave', bytes(100, 1));
    const before = await contents(store, 'dave');
    expect(await code(store.deliver('nobody', bytes(1, 1)))).toBe('ERR_UNKNOWN_USER');
    expect(await code(store.deliver('Bad Name', bytes(1, 1)))).toBe('ERR_INVALID_USER');
    expect(await code(store.deliver('../etc', bytes(1, 1)))).toBe('ERR_INVALID_USER');
    expect(await code(store.deliver('x'.repeat(33), bytes(1, 1)))).toBe('ERR_INVALID_USER');
    expect(await code(store.deliver('dave', bytes(10_001, 1)))).toBe('ERR_MESSAGE_TOO_LARGE');
    expect(await code(store.delete('dave', id))).toBe('ERR_NOT_LOCKED');
    expect(await code(() => store.unlock('dave'))).toBe('ERR_NOT_LOCKED');
    await store.pickup('dave');
    expect(await code(store.tryPickup('dave'))).toBe('ERR_MAILBOX_LOCKED');
    expect(await code(store.delete('dave', id + 1000))).toBe('ERR_UNKNOWN_MESSAGE');
    expect(await code(store.delete('dave', -1))).toBe('ERR_UNKNOWN_MESSAGE');
    expect(await code(store.deleteMany('dave', [id, id + 1000]))).toBe('ERR_UNKNOWN_MESSAGE'); // all or nothing
    store.unlock('dave');
    expect(await contents(store, 'dave')).toEqual(before);
    expect((await mailFsck(disk)).problems).toEqual([]);
    await disk.close();
  });

  it('fills up with StoreFullError, leaving the store consistent and usable', async () => {
    const { disk } = await memStore(600, 64);
    const store = await MailStore.open(disk, { create: true, maxUsers: 2, indexBlocksPerUser: 2, partitions: 4 });
    await store.addUser('erin');
    const kept = new Map<number, string>();
    let err = 'no error';
    for (let i = 0; i < 1000 && err === 'no error'; i++) {
      const msg = bytes(3 * BS, i);
      try {
        kept.set(await store.deliver('erin', msg), Buffer.from(msg).toString('hex'));
      } catch (e) {
        err = (e as TwindiskError).code;
      }
    }
    expect(err).toBe('ERR_STORE_FULL');
    expect(await contents(store, 'erin')).toEqual(kept);
    expect((await mailFsck(disk)).problems).toEqual([]);
    // Freeing space makes room again.
    const [first] = kept.keys();
    await store.pickup('erin');
    await store.delete('erin', first);
    store.unlock('erin');
    await store.deliver('erin', bytes(3 * BS, 1));
    expect((await mailFsck(disk)).problems).toEqual([]);
    await disk.close();
  });

  it('delivers to several users all or none: a full store refuses the message to every recipient', async () => {
    const { disk } = await memStore(600, 64);
    const store = await MailStore.open(disk, { create: true, maxUsers: 3, indexBlocksPerUser: 2, partitions: 4 });
    for (const u of ['ann', 'bo', 'cy']) await store.addUser(u);
    const one = bytes(10, 1);
    const ids = await store.deliverMany(['ann', 'bo', 'cy'], one);
    expect(ids.length).toBe(3);
    for (const [i, u] of ['ann', 'bo', 'cy'].entries()) {
      expect(await contents(store, u)).toEqual(new Map([[ids[i], Buffer.from(one).toString('hex')]]));
    }
    // Fill the store with 2-block messages, then free two of them: 4 or 5 free blocks, room
    // for one copy of a 3-block message but not for two.
    let filler = 0;
    while ((await code(store.deliver('cy', bytes(BS, 100 + filler)))) === 'no error') filler++;
    expect(filler).toBeGreaterThan(100);
    const held = await store.pickup('cy');
    await store.deleteMany('cy', [held[0].id, held[1].id]);
    store.unlock('cy');
    const before = { ann: await contents(store, 'ann'), bo: await contents(store, 'bo') };
    expect(await code(store.deliverMany(['ann', 'bo'], bytes(2 * BS, 7)))).toBe('ERR_STORE_FULL');
    expect(await contents(store, 'ann')).toEqual(before.ann);
    expect(await contents(store, 'bo')).toEqual(before.bo);
    expect((await mailFsck(disk)).problems).toEqual([]);
    await store.deliver('ann', bytes(2 * BS, 7)); // one copy did fit
    await disk.close();
  });

  it('splits a fan-out too large for one transaction into transactions that fit, delivering to every recipient', async () => {
    const { disk } = await memStore(2048, 64); // at most 63 blocks per transaction
    const users = Array.from({ length: 6 }, (_, i) => `r${i}`);
    const store = await MailStore.open(disk, { create: true, maxUsers: 8 });
    for (const u of users) await store.addUser(u);
    const big = bytes(15 * BS, 5); // 16 blocks each: 6 copies need ~100 blocks
    const ids = await store.deliverMany(users, big);
    for (const [i, u] of users.entries()) {
      expect(await contents(store, u)).toEqual(new Map([[ids[i], Buffer.from(big).toString('hex')]]));
    }
    expect((await mailFsck(disk)).problems).toEqual([]);
    await disk.close();
  });

  it('runs concurrent deliveries to one user and to many without losing or sharing anything', async () => {
    const { disk } = await memStore();
    const store = await MailStore.open(disk, { create: true, maxUsers: 8 });
    const users = ['u0', 'u1', 'u2', 'u3'];
    for (const u of users) await store.addUser(u);
    const jobs: Promise<[string, number, string]>[] = [];
    for (let i = 0; i < 120; i++) {
      const u = users[i % 3 === 0 ? 0 : i % users.length]; // u0 gets the most
      const msg = bytes(50 + (i % 7) * 1500, i);
      jobs.push(store.deliver(u, msg).then((id) => [u, id, Buffer.from(msg).toString('hex')]));
    }
    const done = await Promise.all(jobs);
    for (const u of users) {
      const want = new Map(done.filter(([x]) => x === u).map(([, id, hex]) => [id, hex]));
      expect(await contents(store, u)).toEqual(want);
    }
    expect((await mailFsck(disk)).problems).toEqual([]);
    await disk.close();
  });

  it('makes a second pickup wait until the reader unlocks', async () => {
    const { disk } = await memStore();
    const store = await MailStore.open(disk, { create: true, maxUsers: 2 });
    await store.addUser('fay');
    const id = await store.deliver('fay', bytes(10, 1));
    await store.pickup('fay');
    let second = false;
    const p = store.pickup('fay').then((m) => ((second = true), m));
    await new Promise((r) => setTimeout(r, 20));
    expect(second).toBe(false);
    await store.delete('fay', id);
    store.unlock('fay');
    expect(await p).toEqual([]);
    expect(store.isLocked('fay')).toBe(true);
    store.unlock('fay');
    await disk.close();
  });

  it('caps the default message size by what one transaction of the log can hold', async () => {
    const { disk } = await memStore(600, 64); // at most 63 blocks per transaction
    expect(await code(MailStore.open(disk, { create: true, maxUsers: 2, maxMessageBytes: 1 << 20 }))).toBe('ERR_INVALID_ARGUMENT');
    const store = await MailStore.open(disk, { create: true, maxUsers: 2 });
    expect(store.maxMessageBytes).toBeGreaterThan(20 * BS);
    expect(store.maxMessageBytes).toBeLessThan(63 * BS);
    await store.addUser('hal');
    const big = bytes(store.maxMessageBytes, 3);
    const id = await store.deliver('hal', big);
    const [m] = await store.pickup('hal');
    expect(m.id).toBe(id);
    expect(Buffer.from(m.data).equals(Buffer.from(big))).toBe(true);
    await disk.close();
  });

  it('fsck reports a leaked block and a block shared by two messages', async () => {
    const { disk } = await memStore();
    const store = await MailStore.open(disk, { create: true, maxUsers: 2, partitions: 2 });
    await store.addUser('gus');
    await store.deliver('gus', bytes(10, 1));
    await store.deliver('gus', bytes(10, 2));
    const g = store.geometry;
    // Leak: mark a never-used block allocated.
    await disk.transaction(async (tx) => {
      const bm = (await tx.read(g.bitmapStart + 1)).slice();
      bm[5] |= 1; // block 40 of partition 1: far past the one block delivered there
      tx.write(g.bitmapStart + 1, bm);
    });
    let r = await mailFsck(disk);
    expect(r.ok).toBe(false);
    expect(r.problems.some((p) => p.includes('leaked'))).toBe(true);
    // Shared: point the second index entry at the first message's head.
    await disk.transaction(async (tx) => {
      const a = g.indexStart + 1; // gus is slot 0; the second delivery went to index block 1
      const blk = (await tx.read(a)).slice();
      const first = new DataView((await tx.read(g.indexStart)).buffer).getUint32(16 + 4, true);
      new DataView(blk.buffer).setUint32(16 + 4, first, true);
      tx.write(a, blk);
    });
    r = await mailFsck(disk);
    expect(r.problems.some((p) => p.includes('shared'))).toBe(true);
    await disk.close();
  });
});
