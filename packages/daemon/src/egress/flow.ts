import type { Socket } from "node:net";

/** What the proxy reports for every decision it takes. */
export interface EgressEvent {
  readonly sandbox: string;
  /** As the sandbox asked for it ("" when the connection was refused before any request). */
  readonly host: string;
  readonly port: number;
  /** "CONNECT", the method of a plain HTTP request, or "" (refused before any request). */
  readonly method: string;
  readonly allowed: boolean;
  readonly reason: string;
  /** The address the proxy connected to, once it did. */
  readonly address?: string;
  /**
   * Set only on the event that ends an allowed flow (a tunnel or a forwarded request): its
   * bytes from the sandbox (`up`) and to it (`down`). An allowed flow reports twice: when it
   * is decided (no `bytes`) and when it ends.
   */
  readonly bytes?: { readonly up: number; readonly down: number };
}

export type Opened =
  | { readonly ok: true; readonly socket: Socket; readonly address: string }
  | {
      readonly ok: false;
      readonly status: number;
      readonly reason: string;
      readonly hint?: string;
    };

/** What the CONNECT and plain HTTP handlers get from the proxy for one client connection. */
export interface Flow {
  readonly sandbox: string;
  /** Decides `host:port` and, when allowed, connects to a checked address. Reports the decision. */
  open(host: string, port: number, method: string): Promise<Opened>;
  report(event: Omit<EgressEvent, "sandbox">): void;
  /** Keeps a socket for `close()`. */
  track(socket: { destroy(): void; once(event: "close", f: () => void): unknown }): void;
  readonly maxBytes: number;
  readonly tlsPorts: ReadonlySet<number>;
  readonly helloTimeoutMs: number;
}
