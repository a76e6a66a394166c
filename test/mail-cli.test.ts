import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The mail CLI as a user runs it (`npm run mail -- ...` is `tsx src/mail/cli.ts ...`):
 * adduser reads the password from stdin and stores only a hash; serve prints the ports it
 * bound and serves a real smtplib/poplib round trip; --help explains both.
 */

const ROOT = path.join(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'src', 'mail', 'cli.ts');
const PY = path.join(import.meta.dirname, 'py', 'mail_client.py');
const dir = mkdtempSync(path.join(tmpdir(), 'twindisk-mail-cli-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], stdin = ''): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(stdin);
  });
}

const mail = (args: string[], stdin = '') => run(process.execPath, ['--import', 'tsx', CLI, ...args], stdin);

describe('mail CLI', () => {
  it('explains itself with --help and rejects bad usage with exit code 2', async () => {
    const help = await mail(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('adduser --users FILE NAME');
    expect(help.out).toContain('serve --data DIR --users FILE');
    const bad = await mail(['serve', '--users', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--data');
  });

  it('adds a user from stdin, then serves SMTP and POP3 on ephemeral ports', async () => {
    const users = path.join(dir, 'users');
    const added = await mail(['adduser', '--users', users, 'alice'], 'correct horse\n');
    expect(added.code).toBe(0);
    const text = readFileSync(users, 'utf8');
    expect(text).toMatch(/^alice:scrypt:16384:8:1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+\n$/);
    expect(text).not.toContain('correct horse');
    expect((await mail(['adduser', '--users', users, 'Not Valid'], 'pw\n')).code).toBe(1);

    const server = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--data', path.join(dir, 'data'), '--users', users, '--smtp-port', '0', '--pop3-port', '0', '--blocks', '1024'], { cwd: ROOT });
    try {
      let out = '';
      const ports = await new Promise<{ smtp: number; pop3: number }>((resolve, reject) => {
        server.stdout.on('data', (d) => {
          out += d;
          const s = /smtp listening on 127\.0\.0\.1:(\d+)/.exec(out);
          const p = /pop3 listening on 127\.0\.0\.1:(\d+)/.exec(out);
          if (s && p) resolve({ smtp: Number(s[1]), pop3: Number(p[1]) });
        });
        let err = '';
        server.stderr.on('data', (d) => (err += d));
        server.on('close', (code) => reject(new Error(`serve exited ${code}: ${out} ${err}`)));
      });
      const msg = Buffer.from('Subject: hi\r\n\r\n.dotted\r\n\xe9t\xe9\r\n', 'latin1');
      const res = await run('python3', [PY], JSON.stringify([
        { op: 'send', port: ports.smtp, from: 'a@b', to: ['alice@localhost'], msg_hex: msg.toString('hex') },
        { op: 'fetch', port: ports.pop3, user: 'alice', password: 'correct horse', delete: true },
      ]));
      expect(res.code, res.err).toBe(0);
      const [sent, fetched] = JSON.parse(res.out);
      expect(sent.ok).toBe(true);
      expect(fetched.messages).toEqual([msg.toString('hex')]);
    } finally {
      if (server.exitCode === null && server.signalCode === null) {
        const closed = new Promise((r) => server.on('close', r));
        server.kill('SIGTERM');
        await closed;
      }
    }
  });
});
