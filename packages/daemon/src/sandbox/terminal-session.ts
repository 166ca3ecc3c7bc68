import type { Writable } from "node:stream";
import { SANDBOX_EXIT_NOTIFICATION, StreamChannel } from "@wm/protocol";

export interface SessionClient {
  sendBinary(frame: Buffer): void;
  notify(method: string, params: Record<string, unknown>): void;
  /** Called with a function to run when the client goes away. */
  onClose(fn: () => void): void;
}

/**
 * Fans a sandbox's output out to every attached client and feeds their input to its stdin.
 * Output produced while no client is attached is read and dropped, so the container never
 * blocks on a full pipe.
 */
export class TerminalSession {
  readonly #clients = new Set<SessionClient>();
  #stdin: Writable | undefined;
  #exit: { exitCode: number; reason?: string } | undefined;

  constructor(readonly id: string) {}

  setStdin(stdin: Writable | undefined): void {
    this.#stdin = stdin;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  attach(client: SessionClient): () => void {
    if (this.#exit) {
      client.notify(SANDBOX_EXIT_NOTIFICATION, { id: this.id, ...this.#exit });
      return () => {};
    }
    this.#clients.add(client);
    const detach = () => this.#clients.delete(client);
    client.onClose(detach);
    return detach;
  }

  output(channel: number, chunk: Buffer): void {
    if (this.#clients.size === 0) return;
    const frame = Buffer.concat([Buffer.from([channel]), chunk]);
    for (const c of this.#clients) c.sendBinary(frame);
  }

  /** A binary frame from a client: channel byte + data; empty data on stdin means EOF. */
  input(frame: Buffer): void {
    if (frame.length === 0 || frame[0] !== StreamChannel.Stdin || !this.#stdin) return;
    if (frame.length === 1) this.#stdin.end();
    else if (this.#stdin.writable) this.#stdin.write(frame.subarray(1));
  }

  finish(exitCode: number, reason?: string): void {
    this.#exit = reason === undefined ? { exitCode } : { exitCode, reason };
    for (const c of this.#clients)
      c.notify(SANDBOX_EXIT_NOTIFICATION, { id: this.id, ...this.#exit });
    this.#clients.clear();
  }
}
