import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { LineReader, type LineResult } from '../src/mail/line-reader.ts';

/** Just what LineReader uses of a socket: data/end events and pause/resume. */
class FakeSocket extends EventEmitter {
  paused = false;
  isPaused(): boolean {
    return this.paused;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
}

const text = (r: LineResult) => (r.kind === 'line' ? r.line.toString('latin1') : `<${r.kind}>`);

describe('LineReader', () => {
  it('splits lines across and within chunks, byte-exact, and drops a last line cut short by the end', async () => {
    const s = new FakeSocket();
    const r = new LineReader(s as unknown as Socket);
    for (const c of ['ab', 'c\r', '\nde\nf', 'g', 'h', '\r\n\n', 'tail']) s.emit('data', Buffer.from(c, 'latin1'));
    s.emit('end');
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push(text(await r.nextLine(100)));
    expect(got).toEqual(['abc\r\n', 'de\n', 'fgh\r\n', '\n', '<end>', '<end>']);
  });

  it('waits for the rest of a line trickled one byte at a time, copying each byte once, not once per packet', async () => {
    const s = new FakeSocket();
    const r = new LineReader(s as unknown as Socket);
    let copied = 0;
    const concat = Buffer.concat;
    const spy = vi.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], n?: number) => {
      const out = concat(list, n);
      copied += out.length;
      return out;
    });
    try {
      const pending = r.nextLine(10_000);
      const line = 'x'.repeat(5000) + '\r\n';
      for (const ch of line) {
        s.emit('data', Buffer.from(ch));
        await Promise.resolve();
      }
      expect(text(await pending)).toBe(line);
      expect(copied).toBeLessThanOrEqual(line.length);
    } finally {
      spy.mockRestore();
    }
  });

  it('reports too-long once the limit passes without a newline, in one chunk or many', async () => {
    const limit = 8;
    for (const chunks of [['12345678'], ['1234', '5678'], ['1234', '5678\n'], ['12345678\n']]) {
      const s = new FakeSocket();
      const r = new LineReader(s as unknown as Socket);
      for (const c of chunks) s.emit('data', Buffer.from(c));
      expect((await r.nextLine(limit)).kind, chunks.join('|')).toBe('too-long');
    }
    const s = new FakeSocket();
    const r = new LineReader(s as unknown as Socket);
    for (const c of ['123', '4567', '\n']) s.emit('data', Buffer.from(c));
    expect(text(await r.nextLine(limit))).toBe('1234567\n'); // 8 bytes with its newline: fits
  });
});
