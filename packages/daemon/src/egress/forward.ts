import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Dispatcher } from "undici";
import { ByteMeter } from "./byte-meter.ts";
import type { Flow } from "./flow.ts";
import { refusalText, statusText } from "./refusal.ts";

/** Headers that belong to one hop (RFC 9110 §7.6.1), plus the proxy's own. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
]);

function endToEnd(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const named = String(headers.connection ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase());
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.includes(name)) out[name] = value;
  }
  return out;
}

function refuse(
  res: ServerResponse,
  status: number,
  target: string,
  reason: string,
  hint?: string,
) {
  const text = refusalText(target, reason, hint);
  res.writeHead(status, statusText(status), {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** An undici connector that hands over the one socket the proxy opened to a checked address. */
function onlySocket(socket: Socket) {
  let given = false;
  return (_options: unknown, callback: (...args: [null, Socket] | [Error, null]) => void) => {
    if (given) callback(new Error("the egress proxy opens one connection per request"), null);
    else callback(null, socket);
    given = true;
  };
}

function counter(meter: ByteMeter, direction: "up" | "down"): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      meter.add(direction, chunk.length);
      callback(null, chunk);
    },
  });
}

function targetOf(url: string | undefined): URL | undefined {
  if (!url || !/^http:\/\//i.test(url)) return undefined;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** Handles one plain HTTP request in absolute form: decide, then forward it with undici. */
export async function forward(flow: Flow, req: IncomingMessage, res: ServerResponse) {
  const method = req.method ?? "GET";
  const url = targetOf(req.url);
  if (!url || req.headers.upgrade) {
    const reason = url
      ? "protocol upgrades are not forwarded; use CONNECT"
      : `send an absolute http:// URL (or CONNECT host:port for TLS), not ${JSON.stringify(req.url)}`;
    flow.report({ host: url?.hostname ?? "", port: 0, method, allowed: false, reason });
    refuse(res, url ? 501 : 400, req.url ?? "", reason);
    return;
  }
  const port = Number(url.port || 80);
  const opened = await flow.open(url.hostname, port, method);
  if (!opened.ok) {
    refuse(res, opened.status, `${url.hostname}:${port}`, opened.reason, opened.hint);
    return;
  }
  flow.track(opened.socket);
  const target = { host: url.hostname, port, method, address: opened.address };
  // undici loads with the first forwarded request: a daemon whose sandboxes have no proxy (the
  // default network policy) never holds it.
  const { Client } = await import("undici");
  const client = new Client(url.origin, { connect: onlySocket(opened.socket), pipelining: 1 });
  let reason = "closed";
  const meter = new ByteMeter(flow.maxBytes, () => {
    reason = `cut: byte budget of ${flow.maxBytes} bytes exceeded`;
    res.destroy();
    void client.destroy();
  });
  const hasBody = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"];
  try {
    const response = await client.request({
      method: method as Dispatcher.HttpMethod,
      path: `${url.pathname}${url.search}`,
      headers: { ...endToEnd(req.headers), host: url.host },
      body: hasBody ? req.pipe(counter(meter, "up")) : undefined,
    });
    res.writeHead(response.statusCode, endToEnd(response.headers));
    await pipeline(response.body, counter(meter, "down"), res);
  } catch (err) {
    if (!meter.over) reason = `upstream failed: ${(err as Error).message}`;
    if (!res.headersSent) refuse(res, 502, `${url.hostname}:${port}`, reason);
    else res.destroy();
  } finally {
    await client.destroy().catch(() => undefined);
    flow.report({ ...target, allowed: true, reason, bytes: { up: meter.up, down: meter.down } });
  }
}
