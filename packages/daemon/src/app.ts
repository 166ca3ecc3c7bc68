import fastifyWebsocket from "@fastify/websocket";
import { failure, RpcError } from "@wm/protocol";
import Fastify, { type FastifyInstance } from "fastify";
import type { WebSocket } from "ws";
import type { DaemonContext } from "./context.ts";
import { Dispatcher, type HandlerTable } from "./rpc/dispatch.ts";
import { allowedHosts, isAllowedOrigin } from "./rpc/host-check.ts";
import { registerHttpRoute } from "./rpc/http-route.ts";
import { registerWsRoute } from "./rpc/ws-route.ts";

export interface BuiltApp {
  app: FastifyInstance;
  /** Open WebSocket connections, closed with 1001 on shutdown. */
  sockets: Set<WebSocket>;
}

/**
 * The daemon's HTTP surface, built apart from `listen()` so tests can `inject()` into it.
 * No CORS: browsers get nothing. Every request must carry the daemon's own Host.
 */
export async function buildApp(
  daemon: DaemonContext,
  handlers: HandlerTable,
  { tcpPort }: { tcpPort?: number } = {},
): Promise<BuiltApp> {
  const app = Fastify({
    logger: false,
    bodyLimit: daemon.settings.bodyLimit,
    forceCloseConnections: "idle",
    return503OnClosing: true,
  });
  const hosts = allowedHosts(tcpPort);
  const sockets = new Set<WebSocket>();
  const dispatcher = new Dispatcher(handlers);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));

  app.addHook("onRequest", async (request, reply) => {
    const host = request.headers.host;
    if (host === undefined || !hosts.has(host.toLowerCase())) {
      daemon.log.warn({ host, url: request.url }, "refused request with a foreign Host header");
      return reply
        .code(421)
        .send(
          failure(
            null,
            new RpcError("ForbiddenHost", `Host "${host ?? ""}" is not the daemon's own`).toJSON(),
          ),
        );
    }
    if (request.headers.upgrade !== undefined) {
      const origin = request.headers.origin;
      if (!isAllowedOrigin(origin, daemon.settings.allowedOrigins)) {
        daemon.log.warn({ origin }, "refused WebSocket upgrade with a foreign Origin");
        reply.raw.once("finish", () => request.raw.socket.destroy());
        return reply
          .header("connection", "close")
          .code(403)
          .send(
            failure(
              null,
              new RpcError("ForbiddenOrigin", `Origin "${origin}" is not allowed`).toJSON(),
            ),
          );
      }
    }
  });

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _request, reply) => {
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.code(413).send(
        failure(
          null,
          new RpcError(
            "PayloadTooLarge",
            `request body is over the ${daemon.settings.bodyLimit}-byte limit`,
            {
              limit: daemon.settings.bodyLimit,
            },
          ).toJSON(),
        ),
      );
    }
    if (err.statusCode !== undefined && err.statusCode < 500) {
      return reply
        .code(err.statusCode)
        .send(failure(null, new RpcError("InvalidRequest", err.message).toJSON()));
    }
    daemon.log.error({ err }, "request failed");
    return reply.code(500).send(failure(null, new RpcError("InternalError").toJSON()));
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(
        failure(
          null,
          new RpcError(
            "NotFound",
            `no route ${request.method} ${request.url}; use POST /rpc or GET /ws`,
          ).toJSON(),
        ),
      ),
  );

  await app.register(fastifyWebsocket, {
    options: { maxPayload: daemon.settings.wsMaxPayload, perMessageDeflate: false },
  });
  registerHttpRoute(app, daemon, dispatcher);
  registerWsRoute(app, daemon, dispatcher, sockets);
  return { app, sockets };
}
