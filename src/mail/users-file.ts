import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidArgumentError } from '../errors.ts';
import { checkUserName, isValidUserName } from './user-name.ts';

/**
 * The users file: one user a line, `name:scrypt:N:r:p:salt:hash` (salt and hash base64),
 * never the password itself. Lines starting with '#' and blank lines are ignored.
 * Written whole to a temporary file then renamed, so a crash leaves the old or the new file.
 */

const SCRYPT = { N: 16384, r: 8, p: 1, keyLen: 32 };
const MAX_PASSWORD_BYTES = 1024;

export interface UserRecord {
  name: string;
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function scrypt(password: Buffer, salt: Buffer, keyLen: number, o: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keyLen, { ...o, maxmem: 64 * 1024 * 1024 }, (e, k) => (e ? reject(e) : resolve(k))));
}

export function parseUsersFile(text: string): Map<string, UserRecord> {
  const users = new Map<string, UserRecord>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const f = line.split(':');
    const [name, kind, N, r, p, salt, hash] = f;
    if (f.length !== 7 || kind !== 'scrypt' || !isValidUserName(name)) throw new InvalidArgumentError(`users file line ${i + 1} is malformed`);
    users.set(name, { name, N: Number(N), r: Number(r), p: Number(p), salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') });
  });
  return users;
}

export function formatUsersFile(users: Map<string, UserRecord>): string {
  return [...users.values()].map((u) => [u.name, 'scrypt', u.N, u.r, u.p, u.salt.toString('base64'), u.hash.toString('base64')].join(':') + '\n').join('');
}

export async function readUsersFile(path: string): Promise<Map<string, UserRecord>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw e;
  }
  return parseUsersFile(text);
}

export async function hashPassword(name: string, password: string): Promise<UserRecord> {
  checkUserName(name);
  const pw = Buffer.from(password, 'utf8');
  if (pw.length === 0 || pw.length > MAX_PASSWORD_BYTES) throw new InvalidArgumentError(`a password must be 1 to ${MAX_PASSWORD_BYTES} bytes`);
  const salt = randomBytes(16);
  const hash = await scrypt(pw, salt, SCRYPT.keyLen, SCRYPT);
  return { name, N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, salt, hash };
}

/** Adds or changes a user's password in the users file. */
export async function addUser(path: string, name: string, password: string): Promise<void> {
  const users = await readUsersFile(path);
  users.set(name, await hashPassword(name, password));
  const tmp = `${path}.tmp-${process.pid}`;
  // The data is made durable before the rename, and the rename before we return: without the
  // first fsync a power cut can keep the rename but not the data, an empty users file.
  const f = await open(tmp, 'w', 0o600);
  try {
    await f.writeFile(formatUsersFile(users));
    await f.sync();
  } finally {
    await f.close();
  }
  await rename(tmp, path);
  const d = await open(dirname(path), 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** A dummy record, so that an unknown user costs the same scrypt as a known one. */
const DUMMY: UserRecord = { name: '', ...SCRYPT, salt: Buffer.alloc(16), hash: Buffer.alloc(SCRYPT.keyLen) };

/**
 * Checks a password. Takes the same time whether the user exists or not, so that timing
 * does not tell a wrong user from a wrong password.
 */
export async function verifyPassword(users: Map<string, UserRecord>, name: string, password: string): Promise<boolean> {
  const rec = users.get(name);
  const r = rec ?? DUMMY;
  const pw = Buffer.from(password, 'utf8');
  if (pw.length > MAX_PASSWORD_BYTES) return false;
  const got = await scrypt(pw, r.salt, r.hash.length, { N: r.N, r: r.r, p: r.p });
  return timingSafeEqual(got, r.hash) && rec !== undefined;
}
