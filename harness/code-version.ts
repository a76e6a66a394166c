import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The code a crash test's verdicts depend on: the layers, their recovery and the harness itself. */
const DIRS = ['src', 'recovery', 'harness'];

/**
 * A short hash of every TypeScript file the verdicts depend on. It is part of a run's
 * settings, so that an unfinished run resumes only over the same code: results stored
 * before an edit are never counted for the code after it.
 */
export function codeVersion(): string {
  const h = createHash('sha256');
  for (const dir of DIRS) {
    for (const file of tsFiles(join(ROOT, dir))) {
      h.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
    }
  }
  return h.digest('hex').slice(0, 12);
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}
