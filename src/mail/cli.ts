/**
 * The mail example's command line: `npm run mail -- <command>` or `twindisk mail <command>`.
 * Prints usage with --help; exits 2 on a usage error, 1 on a runtime error.
 */
import { parseArgs } from 'node:util';
import { TwindiskError } from '../errors.ts';
import { openMailData } from './mail-data.ts';
import { Pop3Server } from './pop3-server.ts';
import { SmtpServer } from './smtp-server.ts';
import { addUser, readUsersFile, verifyPassword, type UserRecord } from './users-file.ts';

const USAGE = `usage: npm run mail -- <command> [options]      (or: twindisk mail <command> ...)

commands:
  adduser --users FILE NAME
      Adds NAME to the users file, or changes its password. The password is read from
      standard input (first line), e.g.  echo 's3cret' | npm run mail -- adduser --users users.txt alice
      The file holds salted scrypt hashes, never passwords. Names: a-z 0-9 . _ - (max 32).

  serve --data DIR --users FILE [--smtp-port N] [--pop3-port N] [options]
      Serves the mail store kept in DIR (created on first use: two mirrored disk files and
      a write-ahead log) over SMTP, to deliver mail to the users of FILE, and POP3, to read
      and delete it. Port 0 picks a free port; the chosen ports are printed. Every user of
      FILE gets a mailbox; send SIGHUP to re-read FILE after adduser.
      --smtp-port N        SMTP port (default 2525)
      --pop3-port N        POP3 port (default 1110)
      --host ADDR          address to bind (default 127.0.0.1; use 0.0.0.0 to accept remote clients)
      --hostname NAME      name the servers announce (default localhost)
      --blocks N           size of a new store in 4 KiB blocks (default 16384 = 64 MiB)
      --max-message BYTES  largest message accepted (new stores only; default 1048576, or
                           what one transaction of the store's log can hold if less)
      --max-users N        mailboxes a new store can hold (default 64)

  Try it:  echo pw | npm run mail -- adduser --users /tmp/u alice
           npm run mail -- serve --data /tmp/mail --users /tmp/u --smtp-port 0 --pop3-port 0
`;

class UsageError extends Error {}

function int(name: string, v: string | undefined, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(0x0a)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split('\n')[0].replace(/\r$/, '');
}

async function cmdAddUser(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { users: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help) return void console.log(USAGE);
  if (!values.users || positionals.length !== 1) throw new UsageError('adduser needs --users FILE and one NAME');
  const password = await readStdinLine();
  if (!password) throw new UsageError('no password on standard input');
  await addUser(values.users, positionals[0], password);
  console.log(`user ${positionals[0]} saved in ${values.users}`);
}

async function cmdServe(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      users: { type: 'string' },
      'smtp-port': { type: 'string' },
      'pop3-port': { type: 'string' },
      host: { type: 'string' },
      hostname: { type: 'string' },
      blocks: { type: 'string' },
      'max-message': { type: 'string' },
      'max-users': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(USAGE);
  if (!values.data || !values.users) throw new UsageError('serve needs --data DIR and --users FILE');
  const usersPath = values.users;
  const smtpPort = int('smtp-port', values['smtp-port'], 2525);
  const pop3Port = int('pop3-port', values['pop3-port'], 1110);
  const host = values.host ?? '127.0.0.1';
  const hostname = values.hostname ?? 'localhost';
  const { store, close } = await openMailData({
    dir: values.data,
    numBlocks: int('blocks', values.blocks, 16384, 64),
    // Unset: 1 MiB, or less if the store's log cannot take a transaction that large.
    maxMessageBytes: values['max-message'] === undefined ? undefined : int('max-message', values['max-message'], 0, 1),
    maxUsers: int('max-users', values['max-users'], 64, 1),
  });
  let users: Map<string, UserRecord> = new Map();
  const loadUsers = async () => {
    users = await readUsersFile(usersPath);
    for (const name of users.keys()) await store.addUser(name);
  };
  await loadUsers();
  const onError = (e: unknown) => console.error('mail: connection error:', e);
  const smtp = new SmtpServer({ store, hostname, onError, acceptsUser: (u) => users.has(u) });
  const pop3 = new Pop3Server({ store, authenticate: (u, p) => verifyPassword(users, u, p), onError });
  const sp = await smtp.listen(smtpPort, host);
  const pp = await pop3.listen(pop3Port, host);
  console.log(`smtp listening on ${host}:${sp}`);
  console.log(`pop3 listening on ${host}:${pp}`);
  console.log(`${users.size} users from ${usersPath}; mail data in ${values.data}`);
  process.on('SIGHUP', () => {
    loadUsers().then(
      () => console.log(`reloaded ${users.size} users`),
      (e) => console.error('mail: cannot reload users:', (e as Error).message),
    );
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.all([smtp.close(), pop3.close()]);
    await close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

export async function main(argv: string[]): Promise<number> {
  const args = argv[0] === 'mail' ? argv.slice(1) : argv; // `twindisk mail ...` keeps its own name in argv
  const [cmd, ...rest] = args;
  try {
    if (cmd === 'adduser') await cmdAddUser(rest);
    else if (cmd === 'serve') await cmdServe(rest);
    else if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') console.log(USAGE);
    else throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError || String((e as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`mail: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`mail: ${e instanceof TwindiskError ? `${e.code}: ` : ''}${(e as Error).message}`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
