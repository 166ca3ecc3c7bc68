import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { ByteMeter } from "./byte-meter.ts";
import { readClientHello } from "./client-hello.ts";
import type { Flow } from "./flow.ts";
import { normaliseHost } from "./policy.ts";
import { rawResponse, refusalText } from "./refusal.ts";

/** `host:port` or `[v6]:port` from a CONNECT request line. */
export function parseAuthority(target: string): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(target);
  const port = Number(match?.[2]);
  if (!match?.[1] || !(port >= 1 && port <= 65535)) return undefined;
  return { host: match[1], port };
}

type HelloCheck = { ok: true; data: Buffer; ended?: boolean } | { ok: false; reason: string };

/**
 * Waits for the client's first bytes. A TLS ClientHello must name `host` (SNI); on a port in
 * `tlsPorts` the connection must be TLS. Other bytes on other ports pass unread.
 */
function checkHello(client: Duplex, head: Buffer, host: string, port: number, flow: Flow) {
  const tlsOnly = flow.tlsPorts.has(port);
  return new Promise<HelloCheck>((resolve) => {
    let data = head;
    let timer: NodeJS.Timeout | undefined;
    const done = (result: HelloCheck) => {
      clearTimeout(timer);
      client.pause();
      client.off("data", onData).off("end", onEnd).off("close", onEnd);
      resolve(result);
    };
    const onEnd = () =>
      done(
        tlsOnly || data.length > 0
          ? { ok: false, reason: "the client closed before its TLS ClientHello" }
          : { ok: true, data, ended: true },
      );
    const examine = () => {
      if (data.length === 0) return;
      timer ??= setTimeout(
        () => done({ ok: false, reason: "no complete TLS ClientHello in time" }),
        flow.helloTimeoutMs,
      );
      const hello = readClientHello(data);
      if (hello.kind === "incomplete") return;
      if (hello.kind === "not-tls") {
        if (tlsOnly) done({ ok: false, reason: `port ${port} carries only TLS, and this is not` });
        else done({ ok: true, data });
      } else if (hello.kind === "malformed") {
        done({ ok: false, reason: `bad TLS ClientHello: ${hello.reason}` });
      } else if (hello.serverName === undefined) {
        done({ ok: false, reason: "the TLS ClientHello names no server (SNI)" });
      } else if (normaliseHost(hello.serverName) !== normaliseHost(host)) {
        done({
          ok: false,
          reason: `the TLS server name ${hello.serverName} differs from the CONNECT host ${host}`,
        });
      } else {
        done({ ok: true, data });
      }
    };
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      examine();
    };
    client.on("data", onData).once("end", onEnd).once("close", onEnd);
    examine();
  });
}

/** Joins the client and the upstream socket, counting bytes, until both are closed. */
async function splice(flow: Flow, client: Duplex, upstream: Socket, head: Buffer, target: Target) {
  let ended = { allowed: true, reason: "closed" };
  const cut = (allowed: boolean, reason: string) => {
    ended = { allowed, reason };
    client.destroy();
    upstream.destroy();
  };
  const meter = new ByteMeter(flow.maxBytes, () =>
    cut(true, `cut: byte budget of ${flow.maxBytes} bytes exceeded`),
  );
  const closed = Promise.all([closing(client), closing(upstream)]).then(() =>
    flow.report({ ...target, ...ended, bytes: { up: meter.up, down: meter.down } }),
  );
  // A client gone for good takes the upstream with it (once what it sent is flushed); an
  // upstream gone without ending (an error) takes the client.
  client.once("close", () => {
    if (upstream.writableFinished || !upstream.writableEnded) upstream.destroy();
    else upstream.once("finish", () => upstream.destroy());
  });
  upstream.once("close", () => {
    if (!client.writableEnded) client.destroy();
  });
  upstream.on("data", (chunk: Buffer) => meter.add("down", chunk.length)).pipe(client);
  const hello = await checkHello(client, head, target.host, target.port, flow);
  if (!hello.ok) {
    flow.report({ ...target, allowed: false, reason: hello.reason });
    cut(false, `refused: ${hello.reason}`);
  } else if (!client.destroyed && !upstream.destroyed) {
    meter.add("up", hello.data.length);
    if (hello.ended) {
      upstream.end(hello.data);
      return await closed;
    }
    upstream.write(hello.data);
    client.on("data", (chunk: Buffer) => meter.add("up", chunk.length)).pipe(upstream);
  }
  await closed;
}

function closing(stream: Duplex): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed) resolve();
    else stream.once("close", () => resolve());
  });
}

interface Target {
  readonly host: string;
  readonly port: number;
  readonly method: "CONNECT";
  readonly address?: string;
}

/** Handles one CONNECT request: decide, connect to the checked address, check SNI, tunnel. */
export async function tunnel(flow: Flow, req: IncomingMessage, client: Duplex, head: Buffer) {
  client.on("error", () => client.destroy());
  const authority = parseAuthority(req.url ?? "");
  if (!authority) {
    const reason = `CONNECT needs host:port, not ${JSON.stringify(req.url)}`;
    flow.report({ host: req.url ?? "", port: 0, method: "CONNECT", allowed: false, reason });
    client.end(rawResponse(400, refusalText(req.url ?? "", reason)));
    return;
  }
  const { host, port } = authority;
  const opened = await flow.open(host, port, "CONNECT");
  if (!opened.ok) {
    client.end(
      rawResponse(opened.status, refusalText(`${host}:${port}`, opened.reason, opened.hint)),
    );
    return;
  }
  const upstream = opened.socket;
  flow.track(upstream);
  upstream.on("error", () => upstream.destroy());
  if (client.destroyed) {
    upstream.destroy();
    return;
  }
  client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
  await splice(flow, client, upstream, head, {
    host,
    port,
    method: "CONNECT",
    address: opened.address,
  });
}
