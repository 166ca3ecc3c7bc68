import { readFileSync } from "node:fs";
import path from "node:path";

/** Where the daemon mounts this sandbox's endpoint (read-only). */
export const DEFAULT_GUEST_DIR = "/run/wm";

export type Endpoint =
  | { transport: "socket"; socketPath: string }
  | { transport: "tcp"; host: string; port: number; token: string };

export class NoEndpointError extends Error {}

/**
 * The endpoint description the daemon wrote into the mounted directory: `endpoint.json`,
 * plus `token` for TCP. Read at every call, so a daemon restart that rewrites them is picked up.
 */
export function readEndpoint(dir: string = DEFAULT_GUEST_DIR): Endpoint {
  let raw: { transport?: string; socket?: string; host?: string; port?: number };
  try {
    raw = JSON.parse(readFileSync(path.join(dir, "endpoint.json"), "utf8"));
  } catch (err) {
    throw new NoEndpointError(
      `no wm endpoint in ${dir} (${(err as NodeJS.ErrnoException).code ?? "unreadable"}); is this a wm sandbox?`,
    );
  }
  if (raw.transport === "tcp" && typeof raw.host === "string" && typeof raw.port === "number") {
    const token = readFileSync(path.join(dir, "token"), "utf8").trim();
    return { transport: "tcp", host: raw.host, port: raw.port, token };
  }
  return { transport: "socket", socketPath: path.join(dir, raw.socket ?? "guest.sock") };
}
