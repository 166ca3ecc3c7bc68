import { promises as fs } from "node:fs";
import type { AddressInfo } from "node:net";
import fastifyWebsocket from "@fastify/websocket";
import { EXEC_PATH, failure, RpcError } from "@wm/protocol";
import Fastify, { type FastifyInstance } from "fastify";
import type { CallContext, DaemonContext } from "../context.ts";
import { registerExecRoute } from "../host-exec/exec-route.ts";
import { Dispatcher, type HandlerTable } from "../rpc/dispatch.ts";
import { PeerGate } from "./peer-gate.ts";
import { RateLimiter } from "./rate-limit.ts";
import { tokenMatches } from "./token.ts";

export const GUEST_BODY_LIMIT = 64 * 1024;
/** Largest WebSocket message on `/exec` (a chunk of a host command's input). */
const EXEC_MAX_PAYLOAD = 1024 * 1024;
/** A guest must finish sending its request within this time (auth deadline). */
const REQUEST_DEADLINE_MS = 5000;
/** How long a TCP request waits for its sandbox's container address to be known. */
const PEER_DEADLINE_MS = 30_000;
/** An open connection with nothing sent or nothing in flight is closed after this long. */
const IDLE_DEADLINE_MS = 10_000;
/** Calls one sandbox may make: `perSecond` on average, bursts of `burst`, `maxInFlight` at once. */
export const GUEST_RATE_LIMIT = { perSecond: 20, burst: 40, maxInFlight: 4 } as const;
/**
 * Connections one sandbox may hold open at once. Far below the daemon's descriptor limit, so
 * a sandbox that opens thousands of connections costs the daemon this many descriptors and
 * never the ones other sandboxes, the host CLI and the engine need. A shim makes one call
 * per connection; `WM_GUEST_MAX_CONNECTIONS` tunes it.
 */
export function guestMaxConnections(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.WM_GUEST_MAX_CONNECTIONS);
  return Number.isInteger(n) && n > 0 ? n : 64;
}

export type GuestListen =
  | { transport: "socket"; socketPath: string; owner: { uid: number; gid: number } }
  | { transport: "tcp"; host: string; port: number; tokenHash: string };

export interface GuestServer {
  readonly port: number | null;
  /** TCP: the only peer addresses served from now on (the sandbox container's own). */
  admitPeers(peers: readonly string[] | "any"): void;
  close(): Promise<void>;
}

function refuse(reply: import("fastify").FastifyReply, status: number, err: RpcError) {
  return reply.code(status).header("connection", "close").send(failure(null, err.toJSON()));
}

/**
 * One sandbox's endpoint: its own server, so the identity of a call is the socket (or the
 * token) it arrived with. Only guest-surface methods are served; everything is bounded.
 */
export async function startGuestServer(
  daemon: DaemonContext,
  sandbox: { id: string; worktree: string },
  handlers: HandlerTable,
  listen: GuestListen,
): Promise<GuestServer> {
  const app: FastifyInstance = Fastify({
    logger: false,
    bodyLimit: GUEST_BODY_LIMIT,
    requestTimeout: REQUEST_DEADLINE_MS,
    connectionTimeout: IDLE_DEADLINE_MS,
    keepAliveTimeout: REQUEST_DEADLINE_MS,
    forceCloseConnections: true,
    // Header and request deadlines are enforced when Node checks them; check every second.
    http: { headersTimeout: REQUEST_DEADLINE_MS, connectionsCheckingInterval: 1000 },
  });
  // Past the cap, Node closes each new connection as it is accepted: its descriptor is freed
  // at once and the sandbox's client sees the connection end.
  app.server.maxConnections = guestMaxConnections();
  const { perSecond, burst, maxInFlight } = GUEST_RATE_LIMIT;
  const limiter = new RateLimiter(perSecond, burst, maxInFlight);
  const dispatcher = new Dispatcher(handlers);
  const call: CallContext = { daemon, surface: "guest", sandbox };
  let allowedHost = "localhost";
  const peers = new PeerGate();
  if (listen.transport === "tcp") {
    // Before the HTTP server sees it: a connection from another container is closed unread.
    app.server.prependListener("connection", (socket: import("node:net").Socket) => {
      if (peers.refuses(socket.remoteAddress)) socket.destroy();
    });
  }

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));
  app.addHook("onRequest", async (request, reply) => {
    if (request.headers.host !== allowedHost) {
      return refuse(reply, 421, new RpcError("ForbiddenHost"));
    }
    // Only the shim upgrades here, and it sends no Origin: a page in a browser always does.
    if (request.headers.upgrade !== undefined && request.headers.origin !== undefined) {
      return refuse(reply, 403, new RpcError("ForbiddenOrigin"));
    }
    if (listen.transport === "tcp") {
      // A connection that arrived before the container's address was known.
      if (!(await peers.admits(request.socket.remoteAddress, PEER_DEADLINE_MS))) {
        reply.hijack();
        request.raw.socket.destroy();
        return;
      }
      const auth = request.headers.authorization ?? "";
      const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
      if (!tokenMatches(token, listen.tokenHash)) {
        daemon.log.warn({ sandbox: sandbox.id }, "guest call with a wrong token refused");
        return refuse(
          reply,
          401,
          new RpcError("Unauthorized", "this token does not belong to this sandbox's endpoint"),
        );
      }
    }
    const release = limiter.acquire();
    if (!release) return refuse(reply, 429, new RpcError("RateLimited"));
    // A host command's connection lasts as long as the command: it counts against the rate,
    // and against the endpoint's own limit of running commands (exec-route.ts), not in flight.
    if (request.url === EXEC_PATH) release();
    else reply.raw.once("close", release);
  });
  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return refuse(
        reply,
        413,
        new RpcError("PayloadTooLarge", undefined, { limit: GUEST_BODY_LIMIT }),
      );
    }
    return refuse(reply, err.statusCode ?? 500, new RpcError("InvalidRequest", err.message));
  });
  app.setNotFoundHandler((_req, reply) =>
    refuse(reply, 404, new RpcError("NotFound", "use POST /rpc")),
  );
  await app.register(fastifyWebsocket, { options: { maxPayload: EXEC_MAX_PAYLOAD } });
  const execs = registerExecRoute(app, daemon, sandbox);
  const close = async () => {
    execs.killAll();
    await app.close();
  };
  app.post("/rpc", async (request, reply) => {
    let message: unknown;
    try {
      message = JSON.parse(request.body as string);
    } catch {
      return reply.send(failure(null, new RpcError("ParseError").toJSON()));
    }
    if (Array.isArray(message)) {
      return reply.send(
        failure(null, new RpcError("InvalidRequest", "batches are not accepted here").toJSON()),
      );
    }
    const response = await dispatcher.dispatch(message, call, {
      surface: "guest",
      transport: "http",
    });
    return response ? reply.send(response) : reply.code(204).send();
  });

  if (listen.transport === "socket") {
    await fs.rm(listen.socketPath, { force: true });
    await app.listen({ path: listen.socketPath });
    await fs.chown(listen.socketPath, listen.owner.uid, listen.owner.gid);
    await fs.chmod(listen.socketPath, 0o600);
    return { port: null, admitPeers: () => undefined, close };
  }
  await app.listen({ host: listen.host, port: listen.port });
  const port = (app.server.address() as AddressInfo).port;
  allowedHost = `${listen.host}:${port}`;
  return { port, admitPeers: (p) => peers.admit(p), close };
}
