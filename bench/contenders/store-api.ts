import type { TransactionalDisk } from '../../src/wal/transactional-disk.ts';

export interface StoreOptions {
  dir: string;
  numBlocks: number;
  blockSize?: number;
  logBlocks?: number;
}

export type OpenStore = (options: StoreOptions) => Promise<TransactionalDisk>;

/**
 * Loads openStore() if the store module is in the tree. It is imported by a computed
 * path so that the benchmark still runs (and says what is missing) before it lands.
 */
export async function loadOpenStore(): Promise<OpenStore | undefined> {
  const path = '../../src/store/open-store.ts';
  try {
    const mod = (await import(path)) as { openStore?: OpenStore };
    return mod.openStore;
  } catch (err) {
    if (isModuleMissing(err, 'open-store')) return undefined;
    throw err;
  }
}

export function isModuleMissing(err: unknown, name: string): boolean {
  const e = err as NodeJS.ErrnoException;
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test(String(e?.message))) && String(e?.message).includes(name);
}
