import type { Target } from '../target.ts';
import { mailTarget } from './mail.ts';
import { replicatedTarget } from './replicated.ts';
import { stackTarget, transactionalTarget } from './transactional.ts';

/** The targets of the default suite: our layers as shipped. */
export function defaultTargets(): Target[] {
  return [replicatedTarget(), transactionalTarget(), stackTarget(), mailTarget()];
}
