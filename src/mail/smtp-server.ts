import type { Socket } from 'node:net';
import { ConnectionListener } from './connection-listener.ts';
import { TwindiskError } from '../errors.ts';
import { LineReader } from './line-reader.ts';
import type { MailStore } from './mail-store.ts';
import { isValidUserName } from './user-name.ts';

export interface SmtpServerOptions {
  store: MailStore;
  /** Which local users take mail (default: every user with a mailbox in the store). */
  acceptsUser?: (user: string) => boolean;
  /** Name used in the greeting and EHLO reply. */
  hostname?: string;
  /** Connections served at once; more are told 421 and closed. Default 100. */
  maxConnections?: number;
  /** Recipients per message. Default 100 (the RFC 5321 minimum). */
  maxRecipients?: number;
  /** Idle time before the server closes a connection. Default 5 minutes. */
  idleTimeoutMs?: number;
  /** Called with each unexpected error, which closes its connection but never the server. */
  onError?: (e: unknown) => void;
}

/** RFC 5321 4.5.3.1.4: command lines are at most 512 octets including CRLF. */
const MAX_COMMAND_LINE = 512;
/** Text lines are 1000 octets in the RFC; we accept longer ones but bound them by the message limit. */

/**
 * An SMTP server (RFC 5321 subset) that delivers into the mail store: HELO/EHLO, MAIL FROM,
 * RCPT TO (several, local users only: others get 550), DATA with dot-stuffing, RSET, NOOP,
 * QUIT, plus VRFY (252) and HELP. The message is stored byte-exact as received after
 * unstuffing, without a Received: header, and only once the terminating '.' has arrived:
 * a client that disconnects mid-DATA leaves nothing behind. The recipients' deliveries are
 * one transaction (deliverMany), acknowledged with 250 once durable: an error reply, or a
 * crash before the reply, leaves the message with no recipient, so the client's retry
 * duplicates nothing (short of a fan-out too large for one transaction).
 */
export class SmtpServer extends ConnectionListener {
  readonly #o: Required<Omit<SmtpServerOptions, 'onError' | 'acceptsUser'>> & Pick<SmtpServerOptions, 'onError' | 'acceptsUser'>;

  constructor(options: SmtpServerOptions) {
    const o = { hostname: 'localhost', maxConnections: 100, maxRecipients: 100, idleTimeoutMs: 300_000, ...options };
    super({ ...o, busyReply: '421 4.3.2 too many connections, try again later\r\n', idleReply: '421 4.4.2 idle timeout\r\n' });
    this.#o = o;
  }

  protected serve(socket: Socket): Promise<void> {
    return new SmtpSession(socket, this.#o).run();
  }
}

class SmtpSession {
  readonly #socket: Socket;
  readonly #reader: LineReader;
  readonly #store: MailStore;
  readonly #hostname: string;
  readonly #maxRecipients: number;
  readonly #accepts: (user: string) => boolean;
  #helo = false;
  #from: string | undefined;
  #rcpts: string[] = [];

  constructor(socket: Socket, o: { store: MailStore; hostname: string; maxRecipients: number; acceptsUser?: (user: string) => boolean }) {
    this.#socket = socket;
    this.#reader = new LineReader(socket);
    this.#store = o.store;
    this.#hostname = o.hostname;
    this.#maxRecipients = o.maxRecipients;
    this.#accepts = o.acceptsUser ?? ((u) => o.store.hasUser(u));
  }

  #reply(text: string): void {
    if (!this.#socket.destroyed) this.#socket.write(text + '\r\n');
  }

  #close(text: string): void {
    if (!this.#socket.destroyed) this.#socket.end(text + '\r\n');
  }

  #reset(): void {
    this.#from = undefined;
    this.#rcpts = [];
  }

  async run(): Promise<void> {
    this.#reply(`220 ${this.#hostname} ESMTP twindisk mail`);
    for (;;) {
      const r = await this.#reader.nextLine(MAX_COMMAND_LINE);
      if (r.kind === 'end') return;
      if (r.kind === 'too-long') return this.#close('500 5.5.2 line too long');
      const line = r.line.toString('latin1').replace(/\r?\n$/, '');
      const m = /^([A-Za-z]{4})(?:\s+(.*))?$/.exec(line);
      const verb = m ? m[1].toUpperCase() : '';
      const arg = m?.[2] ?? '';
      switch (verb) {
        case 'HELO':
        case 'EHLO':
          if (!arg.trim()) {
            this.#reply('501 5.5.4 syntax: ' + verb + ' hostname');
            break;
          }
          this.#helo = true;
          this.#reset();
          if (verb === 'HELO') this.#reply(`250 ${this.#hostname}`);
          else this.#reply(`250-${this.#hostname}\r\n250-8BITMIME\r\n250-SIZE ${this.#store.maxMessageBytes}\r\n250 HELP`);
          break;
        case 'MAIL':
          this.#mail(arg);
          break;
        case 'RCPT':
          this.#rcpt(arg);
          break;
        case 'DATA':
          if (arg) this.#reply('501 5.5.4 DATA takes no argument');
          else if (this.#from === undefined) this.#reply('503 5.5.1 MAIL FROM first');
          else if (this.#rcpts.length === 0) this.#reply('503 5.5.1 RCPT TO first');
          else if (!(await this.#data())) return;
          break;
        case 'RSET':
          this.#reset();
          this.#reply('250 2.0.0 OK');
          break;
        case 'NOOP':
          this.#reply('250 2.0.0 OK');
          break;
        case 'VRFY':
          this.#reply('252 2.1.5 cannot verify, but will accept mail for local users');
          break;
        case 'HELP':
          this.#reply('214 2.0.0 commands: HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT');
          break;
        case 'QUIT':
          return this.#close(`221 2.0.0 ${this.#hostname} closing connection`);
        default:
          this.#reply('500 5.5.1 command not recognized');
      }
    }
  }

  #mail(arg: string): void {
    if (!this.#helo) return this.#reply('503 5.5.1 say HELO or EHLO first');
    if (this.#from !== undefined) return this.#reply('503 5.5.1 nested MAIL command');
    const m = /^FROM:\s*<([^<>\s]*)>((?:\s+[A-Za-z0-9-]+(?:=\S+)?)*)\s*$/i.exec(arg);
    if (!m) return this.#reply('501 5.5.4 syntax: MAIL FROM:<address>');
    for (const param of m[2].trim().split(/\s+/).filter(Boolean)) {
      const [key, value] = param.split('=');
      if (key.toUpperCase() === 'SIZE') {
        const size = Number(value);
        if (!Number.isSafeInteger(size) || size < 0) return this.#reply('501 5.5.4 bad SIZE');
        if (size > this.#store.maxMessageBytes) return this.#reply(`552 5.3.4 message size exceeds the limit of ${this.#store.maxMessageBytes}`);
      } else if (key.toUpperCase() !== 'BODY') {
        return this.#reply(`555 5.5.4 unsupported parameter ${key}`);
      }
    }
    this.#from = m[1];
    this.#reply('250 2.1.0 OK');
  }

  #rcpt(arg: string): void {
    if (this.#from === undefined) return this.#reply('503 5.5.1 MAIL FROM first');
    const m = /^TO:\s*<([^<>\s]+)>\s*$/i.exec(arg);
    if (!m) return this.#reply('501 5.5.4 syntax: RCPT TO:<user@host>');
    if (this.#rcpts.length >= this.#maxRecipients) return this.#reply('452 4.5.3 too many recipients');
    const at = m[1].lastIndexOf('@');
    const user = (at < 0 ? m[1] : m[1].slice(0, at)).toLowerCase();
    if (!isValidUserName(user) || !this.#accepts(user) || !this.#store.hasUser(user)) return this.#reply(`550 5.1.1 no such user here`);
    if (!this.#rcpts.includes(user)) this.#rcpts.push(user);
    this.#reply('250 2.1.5 OK');
  }

  /** Reads the message up to the lone '.', then delivers it. False when the connection ended. */
  async #data(): Promise<boolean> {
    this.#reply('354 end data with <CR><LF>.<CR><LF>');
    const limit = this.#store.maxMessageBytes;
    const parts: Buffer[] = [];
    let size = 0;
    let over = false;
    for (;;) {
      // A line may be as long as the whole limit (plus its stuffed dot and CRLF).
      const r = await this.#reader.nextLine(limit + 3);
      if (r.kind === 'end') return false; // nothing was stored: delivery only happens after the '.'
      if (r.kind === 'too-long') {
        this.#close('552 5.3.4 message size exceeds the limit');
        return false;
      }
      let line = r.line;
      if (line[0] === 0x2e) {
        if (line.length === 3 && line[1] === 0x0d) break; // ".\r\n"
        if (line.length === 2) break; // ".\n", tolerated
        line = line.subarray(1); // dot-stuffing
      }
      size += line.length;
      if (size > limit) over = true;
      if (!over) parts.push(line);
    }
    const rcpts = this.#rcpts;
    this.#reset();
    if (over) {
      this.#reply(`552 5.3.4 message size exceeds the limit of ${limit}`);
      return true;
    }
    const message = Buffer.concat(parts);
    try {
      await this.#store.deliverMany(rcpts, message);
      this.#reply('250 2.0.0 OK: message stored');
    } catch (e) {
      if (e instanceof TwindiskError && e.code === 'ERR_MESSAGE_TOO_LARGE') this.#reply('552 5.3.4 message too large');
      else if (e instanceof TwindiskError && e.code === 'ERR_STORE_FULL') this.#reply('452 4.3.1 insufficient storage');
      else this.#reply('451 4.3.0 local error in processing');
    }
    return true;
  }
}
