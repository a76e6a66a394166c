import { mailMutants } from './mutants/mail-mutants.ts';
import type { Mutant } from './mutants/mutant.ts';
import { replicatedMutants } from './mutants/replicated-mutants.ts';
import { walMutants } from './mutants/wal-mutants.ts';

export type { Mutant } from './mutants/mutant.ts';

/** Every deliberately broken variant the default suite must catch. */
export const mutantCatalogue: readonly Mutant[] = [...replicatedMutants, ...walMutants, ...mailMutants];
