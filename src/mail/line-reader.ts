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
  /** The first #searchedChunks chunks (#searchedBytes bytes) hold no '\n'. */
  #searchedChunks = 0;
  #searchedBytes = 0;
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
   *
   * Each byte is searched for the '\n' once and copied once: a client that trickles a long
   * line in tiny packets costs linear work, not a copy and a search of the whole pending
   * line per packet.
   */
  async nextLine(maxLineBytes: number): Promise<LineResult> {
    for (;;) {
      for (; this.#searchedChunks < this.#chunks.length; this.#searchedChunks++) {
        const chunk = this.#chunks[this.#searchedChunks];
        const nl = chunk.indexOf(0x0a);
        if (nl < 0) {
          this.#searchedBytes += chunk.length;
          continue;
        }
        if (this.#searchedBytes + nl >= maxLineBytes) return { kind: 'too-long' };
        return { kind: 'line', line: this.#take(this.#searchedChunks, nl + 1) };
      }
      if (this.#searchedBytes >= maxLineBytes) return { kind: 'too-long' };
      if (this.#ended) return { kind: 'end' };
      if (this.#socket.isPaused()) this.#socket.resume();
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /** Removes and returns the chunks before chunk i and the first `n` bytes of chunk i. */
  #take(i: number, n: number): Buffer {
    const last = this.#chunks[i];
    const line = i === 0 ? last.subarray(0, n) : Buffer.concat([...this.#chunks.slice(0, i), last.subarray(0, n)]);
    const rest = last.subarray(n);
    this.#chunks = rest.length > 0 ? [rest, ...this.#chunks.slice(i + 1)] : this.#chunks.slice(i + 1);
    this.#searchedChunks = 0;
    this.#searchedBytes = 0;
    this.#buffered -= line.length;
    if (this.#buffered <= this.#maxBufferedBytes && this.#socket.isPaused()) this.#socket.resume();
    return line;
  }
}
