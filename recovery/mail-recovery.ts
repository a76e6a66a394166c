import { MailStore, type MailOpenOptions } from '../src/mail/mail-store.ts';
import type { TransactionalDisk } from '../src/wal/transactional-disk.ts';
import { procedure, type RecoveryProcedure } from './procedure.ts';

/**
 * The mail layer's recovery over a recovered TransactionalDisk: open the MailStore.
 *
 * It writes nothing, and that is the point: every delivery and delete is one transaction
 * of the layer below, so once the log has replayed its committed transactions the mail
 * layout is already consistent (mailFsck checks that). Mailbox locks live in memory, so
 * the store opened here has every mailbox unlocked, which is what the mail spec says a
 * crash does. Writing nothing makes it trivially idempotent and restartable.
 *
 * Without `create` a missing mail superblock is an error (a crash never removes one, so
 * after a crash it means the disk is not a mail store). `mailRecoveryOf` builds the same
 * procedure for a MailStore subclass, which is how the harness runs a broken variant
 * through the composed stack.
 */
export function mailRecoveryOf(Store: typeof MailStore = MailStore, options: MailOpenOptions = {}, name = 'mail'): RecoveryProcedure<TransactionalDisk, MailStore> {
  return procedure<TransactionalDisk, MailStore>(name, (disk) => Store.open(disk, options));
}

export const mailRecovery: RecoveryProcedure<TransactionalDisk, MailStore> = mailRecoveryOf(MailStore);
