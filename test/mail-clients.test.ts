import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { mailFsck } from '../src/mail/mail-fsck.ts';
import { openMailData } from '../src/mail/mail-data.ts';
import type { MailStore } from '../src/mail/mail-store.ts';
import { Pop3Server } from '../src/mail/pop3-server.ts';
import { SmtpServer } from '../src/mail/smtp-server.ts';
import { addUser, readUsersFile, verifyPassword } from '../src/mail/users-file.ts';
import type { Store } from '../src/store/open-store.ts';

/**
 * The SMTP and POP3 servers driven by clients we did not write: Python's standard smtplib
 * and poplib (test/py/mail_client.py), sending and reading back messages byte-exact.
 */

const SCRIPT = path.join(import.meta.dirname, 'py', 'mail_client.py');
const MAX_MESSAGE = 64 * 1024;

function python(steps: unknown[]): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`python exited ${code}: ${err}`))));
    child.stdin.end(JSON.stringify(steps));
  });
}

/** A message with CRLF line ends (what SMTP carries), dot lines, and every byte value but CR and LF. */
function trickyMessage(seed: number): Buffer {
  const lines = [
    `Subject: test ${seed}`,
    'From: someone@example.org',
    '',
    '.',
    '..',
    '.leading dot',
    '...three',
    'a line with a dot at the end.',
  ].map((l) => Buffer.from(l, 'latin1'));
  let x = seed;
  for (let i = 0; i < 40; i++) {
    const len = (i * 37) % 200;
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) {
      do {
        x = (x * 1103515245 + 12345) >>> 0;
        b[j] = x >>> 24;
      } while (b[j] === 0x0d || b[j] === 0x0a);
    }
    lines.push(b);
  }
  lines.push(Buffer.from('.'), Buffer.from('end'));
  return Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\r\n')]));
}

let dir: string;
let disk: Store;
let store: MailStore;
let smtp: SmtpServer;
let pop3: Pop3Server;
let smtpPort: number;
let pop3Port: number;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'twindisk-mail-clients-'));
  const usersFile = path.join(dir, 'users');
  await addUser(usersFile, 'alice', 'alice-pw');
  await addUser(usersFile, 'bob', 'bob pw with spaces');
  const users = await readUsersFile(usersFile);
  const opened = await openMailData({
    devices: [new MemBlockDevice({ numBlocks: 4096 }), new MemBlockDevice({ numBlocks: 4096 })],
    maxMessageBytes: MAX_MESSAGE,
    maxUsers: 8,
  });
  disk = opened.disk;
  store = opened.store;
  for (const u of users.keys()) await store.addUser(u);
  smtp = new SmtpServer({ store });
  pop3 = new Pop3Server({ store, authenticate: (u, p) => verifyPassword(users, u, p) });
  smtpPort = await smtp.listen(0);
  pop3Port = await pop3.listen(0);
});

afterAll(async () => {
  await smtp?.close();
  await pop3?.close();
  await disk?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('mail servers with Python smtplib and poplib', () => {
  it('delivers to several recipients, refuses unknown ones with 550, and reads back byte-exact', async () => {
    const m1 = trickyMessage(1);
    const m2 = trickyMessage(2);
    const [sent1, sent2, alice, aliceAgain, bob] = await python([
      { op: 'send', port: smtpPort, from: 'x@example.org', to: ['alice@localhost', 'bob', 'zed@localhost'], msg_hex: m1.toString('hex') },
      { op: 'send', port: smtpPort, from: '', to: ['Alice@LOCALHOST'], msg_hex: m2.toString('hex') },
      { op: 'fetch', port: pop3Port, user: 'alice', password: 'alice-pw', delete: true },
      { op: 'fetch', port: pop3Port, user: 'alice', password: 'alice-pw' },
      { op: 'fetch', port: pop3Port, user: 'bob', password: 'bob pw with spaces' },
    ]);
    expect(sent1).toEqual({ ok: true, refused: { 'zed@localhost': 550 }, size: String(MAX_MESSAGE) });
    expect(sent2.ok).toBe(true);
    expect(alice.count).toBe(2);
    expect(alice.size).toBe(m1.length + m2.length);
    expect(alice.messages).toEqual([m1.toString('hex'), m2.toString('hex')]);
    expect(alice.list).toEqual([`1 ${m1.length}`, `2 ${m2.length}`]);
    expect(alice.bye).toMatch(/^\+OK/);
    expect(aliceAgain.count).toBe(0);
    expect(bob.messages).toEqual([m1.toString('hex')]);
    // What the store holds is exactly what was sent, not what POP3 re-encoded.
    const stored = await store.pickup('bob');
    store.unlock('bob');
    expect(Buffer.from(stored[0].data).equals(m1)).toBe(true);
    expect((await mailFsck(disk)).problems).toEqual([]);
  });

  it('deletes only on QUIT: RSET unmarks, and a dropped session deletes nothing', async () => {
    const m = trickyMessage(3);
    const [sent, rset, dropped, kept] = await python([
      { op: 'send', port: smtpPort, from: 'x@example.org', to: ['bob'], msg_hex: m.toString('hex') },
      { op: 'fetch', port: pop3Port, user: 'bob', password: 'bob pw with spaces', delete: true, rset: true },
      { op: 'fetch', port: pop3Port, user: 'bob', password: 'bob pw with spaces', delete: true, noquit: true },
      { op: 'fetch', port: pop3Port, user: 'bob', password: 'bob pw with spaces', delete: true },
    ]);
    expect(sent.ok).toBe(true);
    expect(rset.count).toBe(2); // the first test's message and this one
    expect(dropped.count).toBe(2);
    expect(kept.count).toBe(2);
    expect(kept.messages[1]).toBe(m.toString('hex'));
    expect(kept.uidl.length).toBe(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(store.isLocked('bob')).toBe(false);
    const left = await store.pickup('bob');
    store.unlock('bob');
    expect(left).toEqual([]);
  });

  it('answers a wrong password and an unknown user the same way', async () => {
    const [wrongPw, noUser, bad] = await python([
      { op: 'fetch', port: pop3Port, user: 'alice', password: 'nope' },
      { op: 'fetch', port: pop3Port, user: 'mallory', password: 'alice-pw' },
      { op: 'fetch', port: pop3Port, user: '../../etc', password: 'x' },
    ]);
    expect(wrongPw.ok).toBe(false);
    expect(noUser).toEqual(wrongPw);
    expect(bad).toEqual(wrongPw);
  });

  it('refuses an over-size message (552 from SIZE) and mail for nobody local (550), storing nothing', async () => {
    const big = Buffer.alloc(MAX_MESSAGE + 10, 0x41);
    const [tooBig, nobody] = await python([
      { op: 'send', port: smtpPort, from: 'x@example.org', to: ['alice'], msg_hex: big.toString('hex') },
      { op: 'send', port: smtpPort, from: 'x@example.org', to: ['zed', 'nobody@localhost'], msg_hex: '68690d0a' },
    ]);
    expect(tooBig).toEqual({ ok: false, error: 'sender', code: 552 });
    expect(nobody).toEqual({ ok: false, error: 'recipients', codes: { zed: 550, 'nobody@localhost': 550 } });
    const left = await store.pickup('alice');
    store.unlock('alice');
    expect(left).toEqual([]);
  });
});
