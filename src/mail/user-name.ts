import { InvalidUserNameError } from '../errors.ts';
import { MAX_USER_NAME_BYTES } from './mail-layout.ts';

/**
 * Mailbox names: lower-case ASCII letters, digits, '.', '_' and '-', starting with a letter
 * or digit, at most 32 bytes. Narrow on purpose: the same name is an SMTP local part, a
 * POP3 login and a line of the users file, so it must be safe in all three.
 */
export const USER_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

export function isValidUserName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_USER_NAME_BYTES && USER_NAME_PATTERN.test(name);
}

export function checkUserName(name: unknown): asserts name is string {
  if (!isValidUserName(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 40)) : typeof name;
    throw new InvalidUserNameError(`invalid user name ${shown}: use 1-${MAX_USER_NAME_BYTES} characters a-z 0-9 . _ - starting with a letter or digit`);
  }
}
