import fs from 'node:fs';
import path from 'node:path';
import type { BlockDevice } from '../device/block-device.ts';
import { DISK_FILES, openStore, type Store } from '../store/open-store.ts';
import type { MailFormatOptions } from './mail-layout.ts';
import { MailStore } from './mail-store.ts';

export interface MailDataOptions extends MailFormatOptions {
  /** Directory of the store's two disk images (created on first use)... */
  dir?: string;
  /** ...or two devices for the replicated pair. */
  devices?: readonly [BlockDevice, BlockDevice];
  /** Data blocks of a new store; ignored when the store exists. */
  numBlocks?: number;
  /** Log size of a new store; ignored when the store exists. */
  logBlocks?: number;
}

/**
 * Opens the whole stack for the mail example: the transactional store (replicated pair +
 * write-ahead log, recovered on open) and the mail store on top (formatted on first use).
 */
export async function openMailData(options: MailDataOptions): Promise<{ store: MailStore; disk: Store; close: () => Promise<void> }> {
  const { dir, devices, numBlocks, logBlocks, ...format } = options;
  const exists = dir !== undefined && fs.existsSync(path.join(dir, DISK_FILES[0]));
  const disk = await openStore(
    exists ? { dir } : dir !== undefined ? { dir, numBlocks, logBlocks } : { devices, logBlocks },
  );
  try {
    const store = await MailStore.open(disk, { create: true, ...(exists ? {} : format) });
    return { store, disk, close: () => disk.close() };
  } catch (e) {
    await disk.close().catch(() => undefined);
    throw e;
  }
}
