import { describe, expect, it } from 'vitest';
import { mailSpec } from '../harness/specs/mail-spec.ts';
import { valueKey } from '../harness/values.ts';

// Long strings (mail messages) are keyed by a number per distinct string, and the mail
// spec names messages by number in its state keys: both must stay exact.

const long = (n: number, salt: number) => Array.from({ length: n }, (_, i) => String.fromCharCode((i * 7 + salt) & 0xff)).join('');

describe('keys of long strings', () => {
  it('valueKey: equal long strings share a key, strings one byte apart do not, nor a long string and its JSON', () => {
    const a = long(2500, 3);
    const b = `${a.slice(0, 1200)}x${a.slice(1201)}`;
    expect(valueKey({ ann: [{ id: 0, msg: a }] })).toBe(valueKey({ ann: [{ id: 0, msg: long(2500, 3) }] }));
    expect(valueKey({ ann: [{ id: 0, msg: a }] })).not.toBe(valueKey({ ann: [{ id: 0, msg: b }] }));
    expect(valueKey(a)).not.toBe(valueKey(JSON.stringify(a)));
    expect(valueKey([a, b])).not.toBe(valueKey([b, a]));
    expect(valueKey('#s0')).not.toBe(valueKey(long(200, 1)));
  });

  it('mail spec: states with different messages have different keys, equal states equal keys', () => {
    const spec = mailSpec({ users: ['ann', 'bo'], maxMessageBytes: 3000 });
    const a = long(2500, 3);
    const b = `${a.slice(0, 2499)}!`;
    const s0 = spec.init();
    const withA = spec.step(s0, { t: 'deliver', user: 'ann', msg: a }, { id: 0 })!;
    const withB = spec.step(s0, { t: 'deliver', user: 'ann', msg: b }, { id: 0 })!;
    const withA2 = spec.step(s0, { t: 'deliver', user: 'ann', msg: long(2500, 3) }, { id: 0 })!;
    const toBo = spec.step(s0, { t: 'deliver', user: 'bo', msg: a }, { id: 0 })!;
    expect(spec.key(withA)).not.toBe(spec.key(withB));
    expect(spec.key(withA)).toBe(spec.key(withA2));
    expect(spec.key(withA)).not.toBe(spec.key(toBo));
    expect(spec.key(withA)).not.toBe(spec.key(s0));
  });
});
