import type { BlockDevice } from '../../src/device/block-device.ts';
import { TwindiskError } from '../../src/errors.ts';
import { mailFsck } from '../../src/mail/mail-fsck.ts';
import type { MailFormatOptions } from '../../src/mail/mail-layout.ts';
import { MailStore } from '../../src/mail/mail-store.ts';
import { ReplicatedDisk } from '../../src/replicated/replicated-disk.ts';
import { formatLog } from '../../src/wal/log-format.ts';
import { LogDisk } from '../../src/wal/log-disk.ts';
import type { TransactionalDisk } from '../../src/wal/transactional-disk.ts';
import { stack } from '../../recovery/compose.ts';
import { logRecovery } from '../../recovery/log-recovery.ts';
import { mailRecoveryOf } from '../../recovery/mail-recovery.ts';
import { mailSpec, type MailObs, type MailOp, type MailRes } from '../specs/mail-spec.ts';
import type { DeviceSetup, Target, Workload } from '../target.ts';
import { replicatedRecovery } from './replicated.ts';

/**
 * The mail target: the whole stack (replicated pair of simulated devices > write-ahead
 * log > mail store), opened by the composed recovery replicated-disk > log > mail, checked
 * against the mail spec. The read-back lists every mailbox byte-exact and runs mailFsck:
 * an inconsistent layout (a leaked, shared or dangling block) is a violation even when
 * the listing happens to look right.
 *
 * Sizes are the smallest that still exercise the layout: two users with two index blocks
 * each (so concurrent deliveries to one user can land apart), two allocation partitions,
 * 8 data blocks, and a log of 8 blocks, whose largest transaction (7 blocks) admits a
 * delivery of a three-block message.
 */

export const MAIL_USERS = ['ann', 'bo'] as const;
export const MAIL_FORMAT: MailFormatOptions = { maxUsers: 2, indexBlocksPerUser: 2, partitions: 2, maxMessageBytes: 3000 };
/**
 * 1 KiB blocks: a multi-block message stays small (the spec's keys and the fsck's bitmap
 * scan grow with it), and a block is still two 512-byte sectors for the torn model.
 */
const MAIL_BLOCK_SIZE = 1024;
const MAIL_LOG_BLOCKS = 8;
/** Superblock + directory + 2 users x 2 index blocks + 2 bitmap blocks + 8 data blocks. */
const MAIL_DATA_BLOCKS = 16;
const MAIL_DEVICE_BLOCKS = 3 + MAIL_LOG_BLOCKS + MAIL_DATA_BLOCKS;
const STORE_ID = '7769e1d15c0ffee00000000000000003';

export const mailDevices: readonly DeviceSetup[] = [0, 1].map((i) => ({ numBlocks: MAIL_DEVICE_BLOCKS, blockSize: MAIL_BLOCK_SIZE, label: { storeId: STORE_ID, index: i as 0 | 1 } }));

/** A binary-safe message of `n` bytes (every byte value occurs), as the spec's latin1 string. */
function bytes(n: number, salt: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode((i * 7 + salt) & 0xff);
  return s;
}
/** Three 1 KiB blocks: a head block with its inline part and two extra blocks. */
export const BIG_MESSAGE = bytes(2500, 3);

const deliver = (user: string, msg: string): MailOp => ({ t: 'deliver', user, msg });
const deliverMany = (users: readonly string[], msg: string): MailOp => ({ t: 'deliverMany', users, msg });
const pickup = (user: string): MailOp => ({ t: 'pickup', user });
const del = (user: string, id: number): MailOp => ({ t: 'delete', user, id });
const unlock = (user: string): MailOp => ({ t: 'unlock', user });

/**
 * The shipped small-scope workloads, every point crashed in the default suite. They are
 * few because the cost of a mail workload is its transactions, each explored under every
 * buffered subset of its mirrored log writes with recovery crashed twice over. The first
 * has two deliveries and one delete, with reads (which write nothing) around them:
 * - two clients deliver concurrently to one mailbox, one message spanning three blocks;
 * - a reader picks up, deletes and unlocks;
 * - two readers pick up the same mailbox at once: one must wait for the other's unlock;
 * - a client deletes without holding the lock: refused, unless another reader holds the
 *   mailbox's lock at that moment (the lock is the mailbox's, as in Mailboat).
 * Ids are predictable: with two index blocks per user, the first delivery called gets 0.
 */
export const mailWorkloads: readonly Workload<MailOp>[] = [
  {
    name: 'mail-deliver-pickup-delete',
    clients: [
      [deliver('ann', BIG_MESSAGE), pickup('ann'), del('ann', 0), unlock('ann')],
      [pickup('ann'), unlock('ann'), deliver('ann', 'a\r\n.\r\nb')],
      [pickup('ann'), unlock('ann'), del('ann', 0)],
    ],
  },
  /**
   * One message to both mailboxes in one transaction, while another client holds both
   * mailboxes at once (ann first: a fan-out that commits ann before bo could be seen half
   * done by that reader). A plain deliver to bo beside it would also race deliver against
   * deliverMany for one mailbox's index (3,000 more crash states); it is left out so the
   * default suite keeps its rate, and two deliveries racing for one mailbox stay the first
   * workload's. The message is one block, so both
   * deliveries fit the log's largest transaction; two of BIG_MESSAGE would not, and the
   * store would split the fan-out, which the spec's all-or-none deliverMany does not describe.
   *
   * Recovery is crashed once, not twice: the six-block transaction (two messages, two index
   * blocks, both partitions' bitmaps) makes this workload cost more at depth 2 than the
   * first one whole (34,470 crash states against 23,690; 14,358 at depth 1), and the second
   * level would re-check the log replay that the first workload already crashes twice over.
   */
  {
    name: 'mail-deliver-many',
    clients: [
      [deliverMany(MAIL_USERS, 'to both\r\n')],
      [pickup('ann'), pickup('bo'), unlock('bo'), unlock('ann')],
    ],
    maxDepth: 1,
    // Whether a fan-out is one transaction shows under sync and buffered crashes; a disk that
    // fails or a sector that tears under that transaction meets the same log and mirrors as
    // under the first workload's deliveries, which every model checks. (fail cost 0.7 s for
    // 2,188 states here, a tenth of the default suite's time.)
    models: ['sync', 'buffered'],
  },
];

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** Runs one mail operation; typed errors are results (the spec checks them), anything else is a failure. */
export async function runMailOp(store: MailStore, op: MailOp): Promise<MailRes> {
  try {
    switch (op.t) {
      case 'deliver':
        return { id: await store.deliver(op.user, Buffer.from(op.msg, 'latin1')) };
      case 'deliverMany':
        return { ids: await store.deliverMany(op.users, Buffer.from(op.msg, 'latin1')) };
      case 'pickup':
        return { messages: (await store.pickup(op.user)).map((m) => ({ id: m.id, msg: latin1(m.data) })) };
      case 'delete':
        await store.delete(op.user, op.id);
        return { ok: true };
      case 'unlock':
        store.unlock(op.user);
        return { ok: true };
    }
  } catch (err) {
    if (err instanceof TwindiskError) return { err: err.code };
    throw err;
  }
}

/** The read-back found the on-disk layout inconsistent. */
export class MailFsckFailed extends Error {
  override name = 'MailFsckFailed';
}

/** The disk under a store: the harness checks the layout through it (a test-only peek at a protected field). */
function diskOf(store: MailStore): TransactionalDisk {
  return (store as unknown as { disk: TransactionalDisk }).disk;
}

/**
 * Checks the layout, then lists every mailbox. Mailboxes are read with tryPickup + unlock:
 * after recovery none may be locked, and a lock left held would be a failure here rather
 * than a read-back that waits forever.
 */
export async function readBackMail(store: MailStore): Promise<MailObs> {
  const fsck = await mailFsck(diskOf(store));
  if (!fsck.ok) throw new MailFsckFailed(fsck.problems.join('; '));
  const out: Record<string, { id: number; msg: string }[]> = {};
  for (const user of store.users().sort()) {
    const msgs = await store.tryPickup(user);
    store.unlock(user);
    out[user] = msgs.map((m) => ({ id: m.id, msg: latin1(m.data) }));
  }
  return out;
}

/** Keeps a format-time LogDisk from closing the replicated disk that the harness reopens. */
function unclosable(dev: BlockDevice): BlockDevice {
  return new Proxy(dev, {
    get(t, p) {
      if (p === 'close') return async () => undefined;
      const v = Reflect.get(t, p, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

/** Replicated pair, log, mail store with its users; the log closed (installed) so runs start clean. */
async function formatMail(devices: BlockDevice[]): Promise<void> {
  const rd = await ReplicatedDisk.open(devices[0], devices[1]);
  await formatLog(rd, { logBlocks: MAIL_LOG_BLOCKS });
  const log = await LogDisk.open(unclosable(rd));
  const store = await MailStore.open(log, { create: true, ...MAIL_FORMAT });
  for (const u of MAIL_USERS) await store.addUser(u);
  await log.close();
}

/** The mail store (or a broken subclass) on the whole stack; recovery = replicated-disk > log > mail. */
export function mailTarget(Store: typeof MailStore = MailStore, name = 'mail'): Target<MailStore, MailOp, MailRes, MailObs> {
  return {
    name,
    description: 'MailStore over LogDisk over ReplicatedDisk over two devices, recovery = replicated-disk > log > mail: mail spec, layout checked by mailFsck',
    devices: mailDevices,
    models: ['sync', 'buffered', 'torn', 'fail'],
    transientFailures: true,
    format: formatMail,
    recovery: stack(replicatedRecovery(ReplicatedDisk), logRecovery, mailRecoveryOf(Store)),
    run: runMailOp,
    readBack: readBackMail,
    spec: () => mailSpec({ users: MAIL_USERS, maxMessageBytes: MAIL_FORMAT.maxMessageBytes! }),
    workloads: mailWorkloads,
  };
}
