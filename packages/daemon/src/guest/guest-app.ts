import { promises as fs } from "node:fs";
import type { AddressInfo } from "node:net";
import { failure, RpcError } from "@wm/protocol";
import Fastify, { type FastifyInstance } from "fastify";
import type { CallContext, DaemonContext } from "../context.ts";
import { Dispatcher, type HandlerTable } from "../rpc/dispatch.ts";
import { RateLimiter } from "./rate-limit.ts";
import { tokenMatches } from "./token.ts";

export const GUEST_BODY_LIMIT = 64 * 1024;
/** A guest must finish sending its request within this time (auth deadline). */
const REQUEST_DEADLINE_MS = 5000;

export type GuestListen =
  | { transport: "socket"; socketPath: string; owner: { uid: number; gid: number } }
  | { transport: "tcp"; host: string; port: number; tokenHash: string };

export interface GuestServer {
  readonly port: number | null;
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
    connectionTimeout: REQUEST_DEADLINE_MS * 6,
    keepAliveTimeout: REQUEST_DEADLINE_MS,
    forceCloseConnections: true,
  });
  app.server.headersTimeout = REQUEST_DEADLINE_MS;
  const limiter = new RateLimiter(20, 40, 4);
  const dispatcher = new Dispatcher(handlers);
  const call: CallContext = { daemon, surface: "guest", sandbox };
  let allowedHost = "localhost";

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));
  app.addHook("onRequest", async (request, reply) => {
    if (request.headers.host !== allowedHost) {
      return refuse(reply, 421, new RpcError("ForbiddenHost"));
    }
    if (listen.transport === "tcp") {
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
    reply.raw.once("close", release);
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
    return { port: null, close: () => app.close() };
  }
  await app.listen({ host: listen.host, port: listen.port });
  const port = (app.server.address() as AddressInfo).port;
  allowedHost = `${listen.host}:${port}`;
  return { port, close: () => app.close() };
}
