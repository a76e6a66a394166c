import { extraBlocksFor } from '../../src/mail/mail-layout.ts';
import { MailStore, type IndexEntry } from '../../src/mail/mail-store.ts';
import { mailTarget } from '../targets/mail.ts';
import type { Mutant } from './mutant.ts';

/**
 * Delivery in two transactions, index entry first: allocate the blocks and add the index
 * entry, commit, then write the message blocks. A crash in between (or a reader in
 * between) finds an entry whose head block holds no message.
 */
class DeliverIndexBeforeBlocks extends MailStore {
  protected override async commitDelivery(slot: number, message: Uint8Array, k: number, partition: number): Promise<number> {
    const { entry, blocks } = await this.disk.transaction(async (tx) => {
      const blocks = await this.allocateBlocks(tx, 1 + extraBlocksFor(message.length, this.geometry.blockSize), partition);
      const entry = await this.insertIndexEntry(tx, slot, k, blocks[0], message.length);
      return { entry, blocks };
    });
    await this.disk.transaction((tx) => this.writeMessageBlocks(tx, slot, entry.seq, blocks, message));
    return entry.id;
  }
}

/**
 * Delete in two transactions, blocks first: free the message's blocks, commit, then
 * remove the index entry. A crash in between leaves an entry whose blocks are free (and a
 * delivery in between may take them: one block, two messages).
 */
class DeleteFreesBeforeUnindexing extends MailStore {
  protected override async commitDelete(slot: number, user: string, ids: readonly number[]): Promise<void> {
    const entries = await this.disk.transaction(async (tx) => {
      const found: IndexEntry[] = [];
      const freed: number[] = [];
      for (const id of ids) {
        const entry = await this.findIndexEntry(tx, slot, user, id);
        freed.push(...(await this.messageBlocks(tx, entry.head)));
        found.push(entry);
      }
      await this.freeBlocks(tx, freed);
      return found;
    });
    await this.disk.transaction(async (tx) => {
      for (const entry of entries) await this.removeIndexEntry(tx, slot, entry);
    });
  }
}

/**
 * deliverMany as one transaction per recipient (a fan-out loop over deliver): a crash
 * between two of them leaves the message in some recipients' mailboxes and not in the
 * others', and a reader between them sees it in one mailbox and not in another. The
 * recipients are still all checked before the first delivery, so the one change is the
 * grouping into transactions.
 */
class DeliverManyPerRecipient extends MailStore {
  override async deliverMany(users: readonly string[], message: Uint8Array): Promise<number[]> {
    for (const u of users) this.slotOf(u);
    const ids: number[] = [];
    for (const u of users) ids.push(await this.deliver(u, message));
    return ids;
  }
}

/**
 * pickup() takes the mailbox lock when it is free and otherwise reads anyway instead of
 * waiting: two readers of one mailbox at once (only concurrent clients show it).
 */
class PickupDoesNotWait extends MailStore {
  protected override lockMailbox(slot: number): Promise<void> {
    this.tryLockMailbox(slot);
    return Promise.resolve();
  }
}

/** delete() (and unlock()) no longer require the mailbox to be locked by a pickup. */
class DeleteWithoutLock extends MailStore {
  protected override requireLock(): void {}
}

const mail = (name: string, change: string, Store: typeof MailStore): Mutant => ({
  name,
  layer: 'mail',
  change,
  target: () => mailTarget(Store, `mail~${name}`),
});

export const mailMutants: Mutant[] = [
  mail('mail-index-before-blocks', 'delivery commits its index entry in one transaction and the message blocks in a later one', DeliverIndexBeforeBlocks),
  mail('mail-free-before-unindex', 'delete frees the blocks in one transaction and removes the index entry in a later one', DeleteFreesBeforeUnindexing),
  mail('mail-deliver-many-per-recipient', 'deliverMany commits one transaction per recipient instead of one for all', DeliverManyPerRecipient),
  mail('mail-pickup-does-not-wait', 'pickup reads a mailbox another reader has locked instead of waiting for it', PickupDoesNotWait),
  mail('mail-delete-without-lock', 'delete does not require the mailbox lock', DeleteWithoutLock),
];
