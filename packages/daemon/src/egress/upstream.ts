import { lookup } from "node:dns/promises";
import { connect, type Socket } from "node:net";
import { type AddressAllowance, addressRefusal } from "./addresses.ts";

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Resolves a name on the host; the egress proxy calls it once per connection it opens. */
export type Resolver = (host: string) => Promise<ReadonlyArray<ResolvedAddress>>;

export const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/**
 * `resolve` with each answer kept for `ttlMs` (failures are not kept): a sandbox opening many
 * connections to one name asks the host once. Every address is still checked on every
 * connection; only the lookup is saved.
 */
export function cachedResolver(resolve: Resolver, ttlMs = 5000, maxEntries = 1024): Resolver {
  const kept = new Map<
    string,
    { until: number; answer: Promise<ReadonlyArray<ResolvedAddress>> }
  >();
  return (host) => {
    const now = Date.now();
    const hit = kept.get(host);
    if (hit && hit.until > now) return hit.answer;
    if (kept.size >= maxEntries) {
      for (const [name, entry] of kept) if (entry.until <= now) kept.delete(name);
      if (kept.size >= maxEntries) kept.delete(kept.keys().next().value as string);
    }
    const answer = resolve(host);
    kept.set(host, { until: now + ttlMs, answer });
    answer.catch(() => kept.delete(host));
    return answer;
  };
}

export type Upstream =
  | { readonly ok: true; readonly socket: Socket; readonly address: string }
  | { readonly ok: false; readonly status: 403 | 502; readonly reason: string };

function errorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ?? (err as Error).message;
}

function connectTo(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      // Until the tunnel or undici takes the socket over, an error only ends it.
      socket.on("error", () => socket.destroy());
      resolve(socket);
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * Resolves `host` once, refuses it when any of its addresses is refused, and connects to the
 * checked addresses themselves (in order, first that answers) — never to a second resolution.
 */
export async function openUpstream(
  host: string,
  port: number,
  allowance: AddressAllowance,
  resolve: Resolver,
  timeoutMs: number,
): Promise<Upstream> {
  let addresses: ReadonlyArray<ResolvedAddress>;
  try {
    addresses = await resolve(host);
  } catch (err) {
    return { ok: false, status: 502, reason: `could not resolve ${host}: ${errorText(err)}` };
  }
  if (addresses.length === 0) {
    return { ok: false, status: 502, reason: `${host} has no addresses` };
  }
  for (const { address } of addresses) {
    const refusal = addressRefusal(address, allowance);
    if (refusal) return { ok: false, status: 403, reason: `${host} resolves to ${refusal}` };
  }
  const failures: string[] = [];
  for (const { address } of addresses) {
    try {
      return { ok: true, socket: await connectTo(address, port, timeoutMs), address };
    } catch (err) {
      failures.push(`${address}: ${errorText(err)}`);
    }
  }
  return {
    ok: false,
    status: 502,
    reason: `could not connect to ${host}:${port} (${failures.join(", ")})`,
  };
}
