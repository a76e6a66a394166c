import type { Socket } from 'node:net';

/** What nextLine() yields: a whole line with its terminator, a line over the limit, or the end. */
export type LineResult = { kind: 'line'; line: Buffer } | { kind: 'too-long' } | { kind: 'end' };

/**
 * Pulls LF-terminated lines from a socket, for servers that handle one command at a time
 * (the mail protocols). Bounded memory: the socket is paused while more than
 * `maxBufferedBytes` wait unread, and a line longer than the caller's limit is reported
 * instead of being buffered whole.
 */
export class LineReader {
  readonly #socket: Socket;
  readonly #maxBufferedBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #ended = false;
  #wake: (() => void) | undefined;

  constructor(socket: Socket, maxBufferedBytes = 256 * 1024) {
    this.#socket = socket;
    this.#maxBufferedBytes = maxBufferedBytes;
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered > this.#maxBufferedBytes) socket.pause();
      this.#notify();
    });
    const end = () => {
      this.#ended = true;
      this.#notify();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /**
   * The next line including its '\n' (a final line without one is dropped: the client
   * went away mid-line). 'too-long' once more than `maxLineBytes` arrive without a '\n';
   * the rest of that line is left unread, so the caller should close the connection.
   */
  async nextLine(maxLineBytes: number): Promise<LineResult> {
    for (;;) {
      const joined = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks);
      this.#chunks = joined.length > 0 ? [joined] : [];
      const nl = joined.indexOf(0x0a);
      if (nl >= 0 && nl < maxLineBytes) {
        const line = joined.subarray(0, nl + 1);
        const rest = joined.subarray(nl + 1);
        this.#chunks = rest.length > 0 ? [rest] : [];
        this.#buffered = rest.length;
        if (this.#buffered <= this.#maxBufferedBytes && this.#socket.isPaused()) this.#socket.resume();
        return { kind: 'line', line };
      }
      if (nl >= maxLineBytes || (nl < 0 && joined.length >= maxLineBytes)) return { kind: 'too-long' };
      if (this.#ended) return { kind: 'end' };
      if (this.#socket.isPaused()) this.#socket.resume();
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}
