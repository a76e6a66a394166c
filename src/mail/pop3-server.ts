import type { Socket } from 'node:net';
import { ConnectionListener } from './connection-listener.ts';
import { TwindiskError } from '../errors.ts';
import { LineReader } from './line-reader.ts';
import type { MailMessage, MailStore } from './mail-store.ts';
import { isValidUserName } from './user-name.ts';

export interface Pop3ServerOptions {
  store: MailStore;
  /** Checks a login; should take the same time for unknown users as for wrong passwords. */
  authenticate: (user: string, password: string) => Promise<boolean>;
  /** Connections served at once; more are told -ERR and closed. Default 100. */
  maxConnections?: number;
  /** Idle time before the server closes a connection (RFC 1939: at least 10 minutes). Default 10 minutes. */
  idleTimeoutMs?: number;
  onError?: (e: unknown) => void;
}

/** RFC 2449: command lines are at most 255 octets including CRLF. */
const MAX_COMMAND_LINE = 255;
const MAX_AUTH_FAILURES = 3;

/**
 * A POP3 server (RFC 1939) over the mail store. A session maps onto the store's operations:
 * a successful PASS is pickup (the mailbox is locked; a second session for the same user
 * gets -ERR), DELE only marks, QUIT enters the update state and deletes every marked
 * message in one transaction, then unlocks. A session that ends any other way deletes
 * nothing and unlocks. USER always answers +OK and a failed PASS always says the same
 * thing, so a client cannot tell a wrong user from a wrong password.
 */
export class Pop3Server extends ConnectionListener {
  readonly #o: Required<Omit<Pop3ServerOptions, 'onError'>> & Pick<Pop3ServerOptions, 'onError'>;

  constructor(options: Pop3ServerOptions) {
    const o = { maxConnections: 100, idleTimeoutMs: 600_000, ...options };
    super({ ...o, busyReply: '-ERR too many connections, try again later\r\n', idleReply: '-ERR idle timeout\r\n' });
    this.#o = o;
  }

  protected async serve(socket: Socket): Promise<void> {
    const session = new Pop3Session(socket, this.#o);
    try {
      await session.run();
    } finally {
      session.release();
    }
  }
}

class Pop3Session {
  readonly #socket: Socket;
  readonly #reader: LineReader;
  readonly #store: MailStore;
  readonly #authenticate: (user: string, password: string) => Promise<boolean>;
  #user: string | undefined;
  /** Set once the mailbox is locked (transaction state). */
  #locked: string | undefined;
  #messages: MailMessage[] = [];
  #deleted = new Set<number>();
  #failures = 0;

  constructor(socket: Socket, o: Pick<Pop3ServerOptions, 'store' | 'authenticate'>) {
    this.#socket = socket;
    this.#reader = new LineReader(socket);
    this.#store = o.store;
    this.#authenticate = o.authenticate;
  }

  #ok(text: string): void {
    if (!this.#socket.destroyed) this.#socket.write('+OK ' + text + '\r\n');
  }

  #err(text: string): void {
    if (!this.#socket.destroyed) this.#socket.write('-ERR ' + text + '\r\n');
  }

  /** Unlocks the mailbox if the session still holds it (the session ended without QUIT). */
  release(): void {
    const user = this.#locked;
    this.#locked = undefined;
    if (user === undefined) return;
    try {
      this.#store.unlock(user);
    } catch {
      // Already unlocked: nothing to release. Never let cleanup take the server down.
    }
  }

  async run(): Promise<void> {
    this.#ok('twindisk POP3 server ready');
    for (;;) {
      const r = await this.#reader.nextLine(MAX_COMMAND_LINE);
      if (r.kind === 'end') return;
      if (r.kind === 'too-long') {
        this.#err('line too long');
        this.#socket.end();
        return;
      }
      const line = r.line.toString('latin1').replace(/\r?\n$/, '');
      const sp = line.indexOf(' ');
      const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
      const arg = sp < 0 ? '' : line.slice(sp + 1);
      if (verb === 'QUIT') return this.#quit();
      if (verb === 'NOOP') {
        this.#ok('');
        continue;
      }
      if (verb === 'CAPA') {
        this.#socket.write('+OK capability list follows\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n');
        continue;
      }
      if (this.#locked === undefined) {
        if (!(await this.#authorization(verb, arg))) return;
      } else {
        this.#transaction(verb, arg);
      }
    }
  }

  /** AUTHORIZATION state. False when the session should end. */
  async #authorization(verb: string, arg: string): Promise<boolean> {
    if (verb === 'USER') {
      // Whatever the name, the same answer: a wrong user shows up only at PASS, like a wrong password.
      this.#user = arg;
      this.#ok('send PASS');
      return true;
    }
    if (verb === 'PASS') {
      const user = this.#user;
      this.#user = undefined;
      if (user === undefined) {
        this.#err('send USER first');
        return true;
      }
      const name = user.toLowerCase();
      const good = isValidUserName(name) && (await this.#authenticate(name, arg));
      if (!good || !this.#store.hasUser(name)) {
        this.#failures++;
        this.#err('authentication failed');
        if (this.#failures >= MAX_AUTH_FAILURES) {
          this.#socket.end();
          return false;
        }
        return true;
      }
      try {
        this.#messages = await this.#store.tryPickup(name);
      } catch (e) {
        if (e instanceof TwindiskError && e.code === 'ERR_MAILBOX_LOCKED') this.#err('[IN-USE] maildrop already locked');
        else this.#err('[SYS/TEMP] cannot open maildrop');
        return true;
      }
      if (this.#socket.destroyed) {
        this.#store.unlock(name); // the client left while we read its mailbox
        return false;
      }
      this.#locked = name;
      this.#ok(`maildrop has ${this.#messages.length} messages`);
      return true;
    }
    this.#err(verb === 'STAT' || verb === 'LIST' || verb === 'RETR' || verb === 'DELE' || verb === 'RSET' || verb === 'UIDL' || verb === 'TOP' ? 'log in first' : 'unknown command');
    return true;
  }

  /** The message numbered `arg` (1-based) if it exists and is not marked deleted. */
  #pick(arg: string): { n: number; m: MailMessage } | undefined {
    if (!/^[1-9][0-9]{0,9}$/.test(arg.trim())) {
      this.#err('bad message number');
      return undefined;
    }
    const n = Number(arg.trim());
    const m = this.#messages[n - 1];
    if (!m || this.#deleted.has(n)) {
      this.#err('no such message');
      return undefined;
    }
    return { n, m };
  }

  #live(): { n: number; m: MailMessage }[] {
    return this.#messages.map((m, i) => ({ n: i + 1, m })).filter((x) => !this.#deleted.has(x.n));
  }

  #transaction(verb: string, arg: string): void {
    switch (verb) {
      case 'STAT': {
        const live = this.#live();
        this.#ok(`${live.length} ${live.reduce((s, x) => s + x.m.data.length, 0)}`);
        return;
      }
      case 'LIST':
      case 'UIDL': {
        const show = (x: { n: number; m: MailMessage }) => `${x.n} ${verb === 'LIST' ? x.m.data.length : x.m.id}`;
        if (arg.trim()) {
          const x = this.#pick(arg);
          if (x) this.#ok(show(x));
          return;
        }
        const live = this.#live();
        this.#socket.write(`+OK ${live.length} messages\r\n` + live.map((x) => show(x) + '\r\n').join('') + '.\r\n');
        return;
      }
      case 'RETR': {
        const x = this.#pick(arg);
        if (x) this.#sendMessage(x.m.data, Infinity);
        return;
      }
      case 'TOP': {
        const [num, lines] = arg.trim().split(/\s+/);
        if (lines === undefined || !/^[0-9]{1,9}$/.test(lines)) return this.#err('syntax: TOP msg n');
        const x = this.#pick(num);
        if (x) this.#sendMessage(x.m.data, Number(lines));
        return;
      }
      case 'DELE': {
        const x = this.#pick(arg);
        if (x) {
          this.#deleted.add(x.n);
          this.#ok(`message ${x.n} deleted`);
        }
        return;
      }
      case 'RSET':
        this.#deleted.clear();
        this.#ok(`maildrop has ${this.#messages.length} messages`);
        return;
      case 'USER':
      case 'PASS':
        this.#err('already logged in');
        return;
      default:
        this.#err('unknown command');
    }
  }

  /**
   * Sends a message as a multi-line reply: byte-exact, lines dot-stuffed, and a CRLF added
   * before the terminator if the message does not end with one. With bodyLines finite
   * (TOP), sends the headers and that many body lines.
   */
  #sendMessage(data: Uint8Array, bodyLines: number): void {
    const parts: Buffer[] = [Buffer.from(`+OK ${data.length} octets\r\n`)];
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let start = 0;
    let inBody = false;
    let body = 0;
    while (start < buf.length) {
      if (inBody && body >= bodyLines) break;
      let end = buf.indexOf(0x0a, start);
      end = end < 0 ? buf.length : end + 1;
      const line = buf.subarray(start, end);
      if (line[0] === 0x2e) parts.push(Buffer.from('.'));
      parts.push(line);
      if (inBody) body++;
      else if (line.length <= 2 && (line[0] === 0x0d || line[0] === 0x0a)) inBody = true;
      start = end;
    }
    const last = parts[parts.length - 1];
    if (parts.length > 1 && last[last.length - 1] !== 0x0a) parts.push(Buffer.from('\r\n'));
    parts.push(Buffer.from('.\r\n'));
    this.#socket.write(Buffer.concat(parts));
  }

  /** QUIT: in the transaction state, the UPDATE state (delete the marked, in one transaction), then unlock. */
  async #quit(): Promise<void> {
    const user = this.#locked;
    if (user === undefined) {
      this.#socket.end('+OK bye\r\n');
      return;
    }
    const ids = [...this.#deleted].map((n) => this.#messages[n - 1].id);
    try {
      await this.#store.deleteMany(user, ids);
      this.#socket.end(`+OK ${ids.length} messages deleted, bye\r\n`);
    } catch {
      this.#socket.end('-ERR some deleted messages not removed\r\n');
    } finally {
      this.release();
    }
  }
}
