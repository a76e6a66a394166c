import { describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { mailFsck } from '../src/mail/mail-fsck.ts';
import { MailStore } from '../src/mail/mail-store.ts';
import { openStore, type Store } from '../src/store/open-store.ts';

// The exact wording and order of fsck's problems, for the corruptions whose checks skip
// work (zero bytes of a bitmap past a partition's blocks, empty index blocks): a report
// must name every problem, in ascending block and bit order, whatever the scan skips.

async function smallStore(): Promise<{ disk: Store; store: MailStore }> {
  const devs: [MemBlockDevice, MemBlockDevice] = [new MemBlockDevice({ numBlocks: 64, blockSize: 1024 }), new MemBlockDevice({ numBlocks: 64, blockSize: 1024 })];
  const disk = await openStore({ devices: devs, logBlocks: 8 });
  const store = await MailStore.open(disk, { create: true, maxUsers: 2, indexBlocksPerUser: 2, partitions: 2, maxMessageBytes: 3000 });
  return { disk, store };
}

async function patch(disk: Store, addr: number, edit: (b: Uint8Array) => void): Promise<void> {
  await disk.transaction(async (tx) => {
    const b = (await tx.read(addr)).slice();
    edit(b);
    tx.write(addr, b);
  });
}

describe('mailFsck reports', () => {
  it('lists set bitmap bits past a partition, in bit order, after its own blocks', async () => {
    const { disk, store } = await smallStore();
    await store.addUser('ann');
    const g = store.geometry;
    const count = Math.min(g.partitionBlocks, g.numBlocks - (g.dataStart + g.partitionBlocks));
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(100);
    // Partition 1: its first block leaked; bits 300, 301 and the block's very last bit set.
    const last = g.blockSize * 8 - 1;
    await patch(disk, g.bitmapStart + 1, (b) => {
      b[0] |= 1;
      b[300 >> 3] |= (1 << (300 & 7)) | (1 << (301 & 7));
      b[last >> 3] |= 0x80;
    });
    const r = await mailFsck(disk);
    expect(r.problems).toEqual([
      `block ${g.dataStart + g.partitionBlocks} is allocated but used by no message (leaked)`,
      `bitmap of partition 1 marks bit 300, past its ${count} blocks`,
      `bitmap of partition 1 marks bit 301, past its ${count} blocks`,
      `bitmap of partition 1 marks bit ${last}, past its ${count} blocks`,
    ]);
    expect(r.ok).toBe(false);
    expect(r.blocksInUse).toBe(1);
    await disk.close();
  });

  it('flags the first bit past a partition when it shares a byte with the partition', async () => {
    const { disk, store } = await smallStore();
    const g = store.geometry;
    const count = Math.min(g.partitionBlocks, g.numBlocks - g.dataStart);
    await patch(disk, g.bitmapStart, (b) => {
      b[count >> 3] |= 1 << (count & 7);
    });
    const r = await mailFsck(disk);
    expect(r.problems).toEqual([`bitmap of partition 0 marks bit ${count}, past its ${count} blocks`]);
    expect(r.blocksInUse).toBe(0);
    await disk.close();
  });

  it('flags a non-empty index block of a free slot and one without magic', async () => {
    const { disk, store } = await smallStore();
    await store.addUser('ann');
    const g = store.geometry;
    // ann is slot 0; slot 1 is free.
    const freeBlock = g.indexStart + g.indexBlocksPerUser;
    await patch(disk, freeBlock, (b) => {
      b[g.blockSize - 1] = 7;
    });
    await patch(disk, g.indexStart, (b) => {
      b[g.blockSize - 1] = 1;
    });
    const r = await mailFsck(disk);
    expect(r.problems).toEqual([`index block ${g.indexStart} has no magic but is not empty`, `index block ${freeBlock} of free user slot 1 is not empty`]);
    await disk.close();
  });

  it('finds nothing wrong in a store with mail in both partitions', async () => {
    const { disk, store } = await smallStore();
    await store.addUser('ann');
    await store.addUser('bo');
    await store.deliver('ann', new Uint8Array(2500).fill(3));
    await store.deliver('bo', new Uint8Array(10).fill(4));
    const r = await mailFsck(disk);
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ ok: true, users: 2, messages: 2, blocksInUse: 4 });
    await disk.close();
  });
  it('reports a damaged user name, and the store does not open it as another, valid name', async () => {
    const { disk, store } = await smallStore();
    await store.addUser('ann');
    await patch(disk, 1, (b) => (b[1] |= 0x80)); // 'a' -> 0xe1: 'ann' with its high bit set
    expect((await mailFsck(disk)).problems).toEqual(['user slot 0 holds an invalid name']);
    const reopened = await MailStore.open(disk);
    expect(reopened.hasUser('ann')).toBe(false);
    await disk.close();
  });
});
