import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface ConnectionListenerOptions {
  maxConnections: number;
  idleTimeoutMs: number;
  /** Sent to a connection refused because maxConnections are open, before closing it. */
  busyReply: string;
  /** Sent to a connection idle for idleTimeoutMs, before closing it. */
  idleReply: string;
  /** Serves one accepted connection. */
  onConnection(socket: Socket): void;
}

/**
 * The TCP side shared by the SMTP and POP3 servers: a bound on open connections (a flood
 * gets a reply and a close, never a crash), an idle timeout, and a close() that ends every
 * open connection.
 */
export class ConnectionListener {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #o: ConnectionListenerOptions;

  constructor(options: ConnectionListenerOptions) {
    this.#o = options;
    this.#server = createServer((socket) => this.#accept(socket));
  }

  /** Starts listening; port 0 picks a free port. Returns the port. */
  listen(port: number, host: string): Promise<number> {
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
    if (this.#sockets.size >= this.#o.maxConnections) {
      socket.on('error', () => undefined);
      socket.end(this.#o.busyReply);
      return;
    }
    this.#sockets.add(socket);
    socket.setTimeout(this.#o.idleTimeoutMs, () => socket.end(this.#o.idleReply));
    socket.on('close', () => this.#sockets.delete(socket));
    this.#o.onConnection(socket);
  }
}
