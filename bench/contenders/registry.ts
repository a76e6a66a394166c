import type { Contender, ContenderSpec } from '../contender.ts';
import type { Scratch } from '../tmp.ts';
import { ioStyleContender, rawContender } from './raw.ts';
import { replicatedContender } from './replicated.ts';
import { sqliteContender } from './sqlite.ts';
import { loadOpenStore } from './store-api.ts';
import { storeContender } from './store.ts';

/** Builds the contender a spec describes (in the worker process that will run it). */
export async function buildContender(spec: ContenderSpec, scratch: Scratch): Promise<Contender> {
  switch (spec.type) {
    case 'raw':
      return rawContender(scratch, spec.files, spec.clients);
    case 'io':
      return ioStyleContender(scratch, spec.style, spec.durable);
    case 'replicated':
      return replicatedContender(scratch, spec.clients);
    case 'sqlite':
      return sqliteContender(scratch, spec.blocksPerTx, spec.addressSpace);
    case 'store': {
      const openStore = await loadOpenStore();
      if (!openStore) throw new Error('the transactional store is not in the tree');
      return storeContender(scratch, openStore, spec.blocksPerTx, spec.clients);
    }
  }
}
