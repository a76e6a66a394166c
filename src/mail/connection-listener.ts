import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface ConnectionListenerOptions {
  maxConnections: number;
  idleTimeoutMs: number;
  /** Sent to a connection refused because maxConnections are open, before closing it. */
  busyReply: string;
  /** Sent to a connection idle for idleTimeoutMs, before closing it. */
  idleReply: string;
  /** Called with each unexpected error of a connection, which closes it but never the server. */
  onError?: (e: unknown) => void;
}

/**
 * The TCP side shared by the SMTP and POP3 servers, which extend it with serve(): a bound
 * on open connections (a flood gets a reply and a close, never a crash), an idle timeout,
 * an error in one session that closes that connection only, and a close() that ends every
 * open connection.
 */
export abstract class ConnectionListener {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #listenerOptions: ConnectionListenerOptions;

  constructor(options: ConnectionListenerOptions) {
    this.#listenerOptions = options;
    this.#server = createServer((socket) => this.#accept(socket));
  }

  /** Serves one accepted connection, until its session ends. */
  protected abstract serve(socket: Socket): Promise<void>;

  /** Starts listening; port 0 picks a free port. Returns the port. Binds 127.0.0.1 unless told otherwise. */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting and closes every open connection. */
  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    const o = this.#listenerOptions;
    if (this.#sockets.size >= o.maxConnections) {
      socket.on('error', () => undefined);
      socket.end(o.busyReply);
      return;
    }
    this.#sockets.add(socket);
    socket.setTimeout(o.idleTimeoutMs, () => socket.end(o.idleReply));
    socket.on('close', () => this.#sockets.delete(socket));
    this.serve(socket).catch((e) => {
      o.onError?.(e);
      socket.destroy();
    });
  }
}
