#!/usr/bin/env node
// The package's command line: one entry, a subcommand per tool. The tools are TypeScript,
// run through tsx's loader so that no build step stands between a clone and a run.
import { register } from 'tsx/esm/api';

const commands = {
  crashtest: '../harness/cli.ts',
  mail: '../src/mail/cli.ts',
  bench: '../bench/cli.ts',
  demo: '../src/demo.ts',
};

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || !(name in commands)) {
  const out = name && !(name in commands) && name !== '--help' && name !== '-h' ? console.error : console.log;
  out(`usage: twindisk <command> [options]

commands:
  crashtest   run the crash-injection suite (twindisk crashtest --help)
  mail        the mail server example: adduser, serve (twindisk mail --help)
  bench       the benchmarks against SQLite and the raw disk (twindisk bench --help)
  demo        a short tour of the replicated disk on temporary files`);
  process.exit(name && !(name in commands) && name !== '--help' && name !== '-h' ? 2 : 0);
}

register();
process.argv = [process.argv[0], new URL(commands[name], import.meta.url).pathname, ...rest];
await import(commands[name]);
