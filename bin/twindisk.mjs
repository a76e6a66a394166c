#!/usr/bin/env node
// The package's command line: one entry, a subcommand per tool. The tools are TypeScript,
// run through tsx's loader so that no build step stands between a clone and a run.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const commands = {
  crashtest: '../harness/cli.ts',
  mail: '../src/mail/cli.ts',
  bench: '../bench/cli.ts',
  demo: '../src/demo.ts',
};

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || !(name in commands)) {
  const unknown = name !== undefined && name !== '--help' && name !== '-h';
  (unknown ? console.error : console.log)(`usage: twindisk <command> [options]

commands:
  crashtest   run the crash-injection suite (twindisk crashtest --help)
  mail        the mail server example: adduser, serve (twindisk mail --help)
  bench       the benchmarks against SQLite and the raw disk (twindisk bench --help)
  demo        a short tour of the replicated disk on temporary files`);
  process.exit(unknown ? 2 : 0);
}

register();
// fileURLToPath, not .pathname: a checkout under a path with a space or '%' must still run.
process.argv = [process.argv[0], fileURLToPath(new URL(commands[name], import.meta.url)), ...rest];
await import(commands[name]);
