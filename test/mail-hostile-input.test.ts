import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemBlockDevice } from '../src/device/mem-block-device.ts';
import { mailFsck } from '../src/mail/mail-fsck.ts';
import { openMailData } from '../src/mail/mail-data.ts';
import type { MailStore } from '../src/mail/mail-store.ts';
import { Pop3Server } from '../src/mail/pop3-server.ts';
import { SmtpServer } from '../src/mail/smtp-server.ts';
import type { Store } from '../src/store/open-store.ts';

/**
 * Malformed and hostile input over raw sockets: every case gets an error reply or a closed
 * connection, the server keeps serving, and no partial message is ever stored.
 */

const MAX_MESSAGE = 8192;
const MAX_CONNECTIONS = 20;

/** A raw client that reads the server's replies line by line. */
class Raw {
  readonly socket: Socket;
  #buf = '';
  #lines: string[] = [];
  #waiter: (() => void) | undefined;
  closed: Promise<void>;
  isClosed = false;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('error', () => undefined);
    this.socket.on('data', (d) => {
      this.#buf += d.toString('latin1');
      let i: number;
      while ((i = this.#buf.indexOf('\r\n')) >= 0) {
        this.#lines.push(this.#buf.slice(0, i));
        this.#buf = this.#buf.slice(i + 2);
      }
      this.#waiter?.();
    });
    this.closed = new Promise((r) =>
      this.socket.on('close', () => {
        this.isClosed = true;
        this.#waiter?.();
        r();
      }),
    );
  }

  /** The next reply line; '<closed>' if the server closed the connection first. */
  async line(): Promise<string> {
    for (;;) {
      const l = this.#lines.shift();
      if (l !== undefined) return l;
      if (this.isClosed) return '<closed>';
      await new Promise<void>((r) => (this.#waiter = r));
    }
  }

  /** The last line of a multi-line SMTP reply ("250-..." lines skipped). */
  async reply(): Promise<string> {
    for (;;) {
      const l = await this.line();
      if (!/^\d{3}-/.test(l)) return l;
    }
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }
}

let disk: Store;
let store: MailStore;
let smtp: SmtpServer;
let pop3: Pop3Server;
let smtpPort: number;
let pop3Port: number;
const errors: unknown[] = [];

beforeAll(async () => {
  const opened = await openMailData({
    devices: [new MemBlockDevice({ numBlocks: 2048 }), new MemBlockDevice({ numBlocks: 2048 })],
    maxMessageBytes: MAX_MESSAGE,
    maxUsers: 4,
  });
  disk = opened.disk;
  store = opened.store;
  await store.addUser('alice');
  await store.addUser('bob');
  smtp = new SmtpServer({ store, maxConnections: MAX_CONNECTIONS, onError: (e) => errors.push(e) });
  // A cheap stand-in for the scrypt check: this file tests the protocol, not the hashing.
  pop3 = new Pop3Server({ store, maxConnections: MAX_CONNECTIONS, authenticate: async (u, p) => p === `${u}-pw`, onError: (e) => errors.push(e) });
  smtpPort = await smtp.listen(0);
  pop3Port = await pop3.listen(0);
});

afterAll(async () => {
  await smtp?.close();
  await pop3?.close();
  await disk?.close();
});

async function smtpSession(): Promise<Raw> {
  const c = new Raw(smtpPort);
  expect(await c.line()).toMatch(/^220 /);
  return c;
}

/** The next SMTP replies of `c`, one per code, in order (for pipelined commands). */
async function expectReplies(c: Raw, ...codes: number[]): Promise<void> {
  for (const [i, code] of codes.entries()) expect(await c.reply(), `reply ${i + 1} of ${codes.length}`).toMatch(new RegExp(`^${code} `));
}

async function mailbox(user: string): Promise<number> {
  const ms = await store.pickup(user);
  store.unlock(user);
  return ms.length;
}

async function serverStillWorks(): Promise<void> {
  const c = await smtpSession();
  c.send('NOOP\r\n');
  expect(await c.reply()).toMatch(/^250 /);
  c.send('QUIT\r\n');
  expect(await c.reply()).toMatch(/^221 /);
}

describe('SMTP under hostile input', () => {
  it('replies 503 to commands out of order and 500 to unknown ones', async () => {
    const c = await smtpSession();
    c.send('MAIL FROM:<a@b>\r\n');
    expect(await c.reply()).toMatch(/^503 /);
    c.send('EHLO me\r\n');
    expect(await c.reply()).toMatch(/^250 /);
    c.send('RCPT TO:<alice>\r\n');
    expect(await c.reply()).toMatch(/^503 /);
    c.send('DATA\r\n');
    expect(await c.reply()).toMatch(/^503 /);
    c.send('MAIL FROM:<a@b>\r\n');
    expect(await c.reply()).toMatch(/^250 /);
    c.send('MAIL FROM:<a@b>\r\n');
    expect(await c.reply()).toMatch(/^503 /);
    c.send('DATA\r\n');
    expect(await c.reply()).toMatch(/^503 /);
    c.send('RCPT TO:alice\r\n');
    expect(await c.reply()).toMatch(/^501 /);
    c.send('XYZZY\r\n');
    expect(await c.reply()).toMatch(/^500 /);
    c.send('\x00\xff\r\n');
    expect(await c.reply()).toMatch(/^500 /);
    c.send('RSET\r\n');
    expect(await c.reply()).toMatch(/^250 /);
    c.send('QUIT\r\n');
    expect(await c.reply()).toMatch(/^221 /);
    await c.closed;
  });

  it('closes the connection on an overlong command line', async () => {
    const c = await smtpSession();
    c.send('EHLO ' + 'x'.repeat(5000) + '\r\n');
    expect(await c.reply()).toMatch(/^500 /);
    await c.closed;
    await serverStillWorks();
  });

  it('stores nothing when the client disconnects mid-DATA', async () => {
    const before = await mailbox('alice');
    const c = await smtpSession();
    c.send('HELO me\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice>\r\nDATA\r\n'); // pipelined on purpose
    await expectReplies(c, 250, 250, 250, 354);
    c.send('Subject: half\r\n\r\nfirst line\r\nsecond line without its end');
    await new Promise((r) => setTimeout(r, 20));
    c.socket.destroy();
    await c.closed;
    await new Promise((r) => setTimeout(r, 20));
    expect(await mailbox('alice')).toBe(before);
    await serverStillWorks();
  });

  it('refuses an over-limit message with 552 after the dot, keeps the session, stores nothing', async () => {
    const before = await mailbox('bob');
    const c = await smtpSession();
    c.send('EHLO me\r\n');
    expect(await c.reply()).toMatch(/^250 /);
    c.send('MAIL FROM:<a@b> SIZE=99999999\r\n');
    expect(await c.reply()).toMatch(/^552 /);
    c.send('MAIL FROM:<a@b>\r\nRCPT TO:<bob@here>\r\nDATA\r\n');
    await expectReplies(c, 250, 250, 354);
    for (let i = 0; i < 200; i++) c.send('y'.repeat(98) + '\r\n'); // 20000 bytes > 8192
    c.send('.\r\n');
    expect(await c.reply()).toMatch(/^552 /);
    c.send('NOOP\r\n');
    expect(await c.reply()).toMatch(/^250 /);
    // A single line longer than the whole limit: refused and closed.
    c.send('MAIL FROM:<a@b>\r\nRCPT TO:<bob>\r\nDATA\r\n');
    await expectReplies(c, 250, 250, 354);
    c.send('z'.repeat(3 * MAX_MESSAGE));
    expect(await c.reply()).toMatch(/^552 /);
    await c.closed;
    expect(await mailbox('bob')).toBe(before);
    expect((await mailFsck(disk)).problems).toEqual([]);
  });

  it('accepts a message whose lines end in bare LF and unstuffs dots', async () => {
    const c = await smtpSession();
    c.send('HELO me\nMAIL FROM:<>\nRCPT TO:<bob>\nDATA\n');
    await expectReplies(c, 250, 250, 250, 354);
    c.send('a\n..b\n.\n');
    expect(await c.reply()).toMatch(/^250 /);
    const ms = await store.pickup('bob');
    await store.deleteMany(
      'bob',
      ms.map((m) => m.id),
    );
    store.unlock('bob');
    expect(Buffer.from(ms[ms.length - 1].data).toString()).toBe('a\n.b\n');
  });

  it('turns away connections beyond the limit with 421 and keeps serving', async () => {
    const conns = Array.from({ length: MAX_CONNECTIONS + 10 }, () => new Raw(smtpPort));
    const firsts = await Promise.all(conns.map((c) => c.line()));
    // At most the limit is served (a connection of an earlier test may still be closing).
    const served = firsts.filter((l) => l.startsWith('220')).length;
    expect(served).toBeLessThanOrEqual(MAX_CONNECTIONS);
    expect(served).toBeGreaterThanOrEqual(MAX_CONNECTIONS - 2);
    expect(firsts.filter((l) => l.startsWith('421')).length).toBe(conns.length - served);
    for (const c of conns) c.socket.destroy();
    await Promise.all(conns.map((c) => c.closed));
    await new Promise((r) => setTimeout(r, 20));
    await serverStillWorks();
    expect(errors).toEqual([]);
  });
});

describe('POP3 under hostile input', () => {
  async function pop(): Promise<Raw> {
    const c = new Raw(pop3Port);
    expect(await c.line()).toMatch(/^\+OK/);
    return c;
  }

  it('refuses mailbox commands before login, bad message numbers, and an overlong line', async () => {
    const c = await pop();
    for (const cmd of ['STAT', 'LIST', 'RETR 1', 'DELE 1', 'PASS x', 'FOO']) {
      c.send(cmd + '\r\n');
      expect(await c.line()).toMatch(/^-ERR/);
    }
    c.send('USER alice\r\nPASS alice-pw\r\n');
    expect(await c.line()).toMatch(/^\+OK/);
    expect(await c.line()).toMatch(/^\+OK/);
    for (const cmd of ['RETR 0', 'RETR abc', 'RETR 99999', 'DELE -1', 'LIST 7', 'TOP 1', 'USER bob']) {
      c.send(cmd + '\r\n');
      expect(await c.line()).toMatch(/^-ERR/);
    }
    c.send('NOOP ' + 'n'.repeat(1000) + '\r\n');
    expect(await c.line()).toMatch(/^-ERR/);
    await c.closed;
    await new Promise((r) => setTimeout(r, 20));
    expect(store.isLocked('alice')).toBe(false); // the dropped session released the lock
  });

  it('gives a second session for a locked mailbox -ERR [IN-USE] and closes after repeated failures', async () => {
    const a = await pop();
    a.send('USER bob\r\nPASS bob-pw\r\n');
    expect(await a.line()).toMatch(/^\+OK/);
    expect(await a.line()).toMatch(/^\+OK/);
    const b = await pop();
    b.send('USER bob\r\nPASS bob-pw\r\n');
    expect(await b.line()).toMatch(/^\+OK/);
    expect(await b.line()).toMatch(/^-ERR \[IN-USE\]/);
    a.send('QUIT\r\n');
    expect(await a.line()).toMatch(/^\+OK/);
    b.send('USER bob\r\nPASS bob-pw\r\n');
    expect(await b.line()).toMatch(/^\+OK/);
    expect(await b.line()).toMatch(/^\+OK/);
    b.send('QUIT\r\n');
    expect(await b.line()).toMatch(/^\+OK/);

    const c = await pop();
    for (let i = 0; i < 3; i++) {
      c.send('USER bob\r\nPASS wrong\r\n');
      expect(await c.line()).toMatch(/^\+OK/);
      expect(await c.line()).toBe('-ERR authentication failed');
    }
    await c.closed;
  });
});
