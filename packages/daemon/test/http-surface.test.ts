import { rawRequest, rpcBody } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type InProcessDaemon, startTestDaemon } from "./helpers.ts";

let d: InProcessDaemon;
beforeAll(async () => {
  d = await startTestDaemon();
});
afterAll(async () => {
  await d.close();
});

async function stillServes(): Promise<void> {
  const res = await rawRequest(d.home.socketPath, { body: rpcBody("daemon.status") });
  expect(res.status).toBe(200);
  expect((res.json() as { result: { pid: number } }).result.pid).toBe(process.pid);
}

function errorOf(body: string): { code: number; message: string; data?: unknown } {
  return (JSON.parse(body) as { error: { code: number; message: string; data?: unknown } }).error;
}

describe("host API over the Unix socket", () => {
  it("answers daemon.status", async () => {
    await stillServes();
  });

  it("malformed JSON gets a parse error", async () => {
    const res = await rawRequest(d.home.socketPath, { body: '{"jsonrpc": "2.0", "method": ' });
    expect(errorOf(res.body).code).toBe(-32700);
    expect(errorOf(res.body).message).toContain("not valid JSON");
    await stillServes();
  });

  it("a body that is not a JSON-RPC request gets invalid request", async () => {
    const res = await rawRequest(d.home.socketPath, { body: JSON.stringify({ hello: 1 }) });
    expect(errorOf(res.body).code).toBe(-32600);
    await stillServes();
  });

  it("an unknown method gets method-not-found naming it", async () => {
    const res = await rawRequest(d.home.socketPath, { body: rpcBody("sandbox.selfDestruct") });
    const err = errorOf(res.body);
    expect(err.code).toBe(-32601);
    expect(err.message).toContain("sandbox.selfDestruct");
    await stillServes();
  });

  it("wrong parameter types get invalid params naming the field", async () => {
    const res = await rawRequest(d.home.socketPath, { body: rpcBody("config.get", { cwd: 42 }) });
    const err = errorOf(res.body);
    expect(err.code).toBe(-32602);
    expect(err.message).toContain("cwd");
    expect(JSON.stringify(err.data)).toContain('"path":"cwd"');
    const extra = await rawRequest(d.home.socketPath, {
      body: rpcBody("daemon.status", { bogus: true }),
    });
    expect(errorOf(extra.body).code).toBe(-32602);
    await stillServes();
  });

  it("a 10 MB body is refused with 413 and the limit", async () => {
    const big = rpcBody("config.get", { cwd: `/${"a".repeat(10 * 1024 * 1024)}` });
    const res = await rawRequest(d.home.socketPath, { body: big }).catch((e: Error) => e);
    if (res instanceof Error) {
      // The daemon may close the connection before reading the whole body; that is a refusal too.
      expect(res.message).toMatch(/EPIPE|ECONNRESET|socket hang up/);
    } else {
      expect(res.status).toBe(413);
      expect(errorOf(res.body).code).toBe(-32001);
      expect(errorOf(res.body).data).toEqual({ limit: 1024 * 1024 });
    }
    await stillServes();
  });

  it("a foreign Host header is refused; the same request with the daemon's Host is served", async () => {
    const attack = await rawRequest(d.home.socketPath, {
      headers: { host: "evil.example:80" },
      body: rpcBody("daemon.status"),
    });
    expect(attack.status).toBe(421);
    expect(errorOf(attack.body).code).toBe(-32002);
    const control = await rawRequest(d.home.socketPath, {
      headers: { host: "localhost" },
      body: rpcBody("daemon.status"),
    });
    expect(control.status).toBe(200);
    await stillServes();
  });

  it("sends no CORS headers, even to a preflight", async () => {
    const res = await rawRequest(d.home.socketPath, {
      method: "OPTIONS",
      headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
    });
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    expect(res.status).toBe(404);
  });

  it("a streaming method over plain HTTP is refused with directions", async () => {
    const res = await rawRequest(d.home.socketPath, { body: rpcBody("events.subscribe") });
    expect(errorOf(res.body).message).toContain("/ws");
  });

  it("answers a batch", async () => {
    const res = await rawRequest(d.home.socketPath, {
      body: JSON.stringify([
        JSON.parse(rpcBody("daemon.status", {}, 1)),
        JSON.parse(rpcBody("nope", {}, 2)),
      ]),
    });
    const out = res.json() as Array<{ id: number; error?: { code: number } }>;
    expect(out.map((r) => r.id)).toEqual([1, 2]);
    expect(out[1]?.error?.code).toBe(-32601);
  });
});

function openWs(headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${d.home.socketPath}:/ws`, { headers });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => ws.once("message", (m) => resolve(JSON.parse(String(m)))));
}

describe("host API over the WebSocket", () => {
  it("an upgrade with a foreign Origin is refused; without it the upgrade succeeds", async () => {
    await expect(openWs({ origin: "http://evil.example" })).rejects.toThrow("HTTP 403");
    const ws = await openWs();
    ws.close();
    await stillServes();
  });

  it("declines permessage-deflate, even when the client offers it", async () => {
    const ws = new WebSocket(`ws+unix://${d.home.socketPath}:/ws`, { perMessageDeflate: true });
    const offered = new Promise<string | undefined>((resolve) =>
      ws.once("upgrade", (res) => resolve(res.headers["sec-websocket-extensions"])),
    );
    await new Promise((resolve) => ws.once("open", resolve));
    expect(await offered).toBeUndefined();
    expect(ws.extensions).toBe("");
    ws.close();
  });

  it("subscribes to events and receives them as notifications", async () => {
    const ws = await openWs();
    ws.send(rpcBody("events.subscribe", { topics: ["daemon"] }, 7));
    const ack = await nextMessage(ws);
    expect(ack.id).toBe(7);
    const sub = (ack.result as { subscription: string }).subscription;
    const event = nextMessage(ws);
    d.daemon.context.events.emit("daemon", "test", { n: 1 });
    d.daemon.context.events.emit("config", "ignored", {});
    const got = await event;
    expect(got.method).toBe("events.event");
    expect(got.params).toMatchObject({
      subscription: sub,
      topic: "daemon",
      type: "test",
      data: { n: 1 },
    });
    ws.close();
  });

  it("every call gets its answer under pipelining: beyond the in-flight limit, RateLimited with the call's id", async () => {
    const ws = await openWs();
    const answered = new Map<number, Record<string, unknown>>();
    const all = new Promise<void>((resolve) =>
      ws.on("message", (m) => {
        const msg = JSON.parse(String(m)) as Record<string, unknown>;
        answered.set(msg.id as number, msg);
        if (answered.size === 200) resolve();
      }),
    );
    for (let id = 1; id <= 200; id++) ws.send(rpcBody("daemon.status", {}, id));
    await all;
    expect([...answered.keys()].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    const limited = [...answered.values()].filter((m) => m.error);
    for (const m of limited)
      expect((m.error as { message: string }).message).toContain("in flight");
    ws.close();
  });

  it("a malformed request gets an error naming the field, bad params one naming the method and the field, each with the call's id", async () => {
    const ws = await openWs();
    const errorFor = async (message: unknown) => {
      const answer = nextMessage(ws);
      ws.send(JSON.stringify(message));
      const got = await answer;
      return { id: got.id, ...(got.error as { code: number; message: string; data: unknown }) };
    };
    const badEnvelopes: Array<[Record<string, unknown>, string]> = [
      [{ jsonrpc: "1.0", id: 11, method: "daemon.status" }, "jsonrpc"],
      [{ jsonrpc: "2.0", id: 12, method: "" }, "method"],
      [{ jsonrpc: "2.0", id: 13, method: "daemon.status", params: [1] }, "params"],
      [{ jsonrpc: "2.0", id: 1.5, method: "daemon.status" }, "id"],
    ];
    for (const [message, field] of badEnvelopes) {
      const err = await errorFor(message);
      expect(err.code).toBe(-32600);
      expect(err.id).toBe(message.id);
      expect(err.message).toContain(`not a JSON-RPC 2.0 request: ${field}:`);
      expect(JSON.stringify(err.data)).toContain(`"path":"${field}"`);
    }
    const params = await errorFor(JSON.parse(rpcBody("config.get", { cwd: 42 }, 14)));
    expect(params).toMatchObject({ id: 14, code: -32602 });
    expect(params.message).toContain('invalid params for "config.get": cwd:');
    expect(JSON.stringify(params.data)).toContain('"path":"cwd"');
    const extra = await errorFor(JSON.parse(rpcBody("daemon.status", { bogus: true }, 15)));
    expect(extra).toMatchObject({ id: 15, code: -32602 });
    expect(extra.message).toContain('invalid params for "daemon.status"');
    expect(extra.message).toContain("bogus");
    const status = nextMessage(ws);
    ws.send(rpcBody("daemon.status", {}, 16));
    expect((await status).result).toMatchObject({ pid: process.pid });
    ws.close();
  });

  it("malformed and oversized WebSocket messages get errors; the daemon keeps serving", async () => {
    const ws = await openWs();
    ws.send("{not json");
    expect(((await nextMessage(ws)).error as { code: number }).code).toBe(-32700);
    ws.send(rpcBody("no.such", {}, 3));
    expect(((await nextMessage(ws)).error as { code: number }).code).toBe(-32601);
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.send("x".repeat(2 * 1024 * 1024));
    expect(await closed).toBe(1009);
    await stillServes();
  });
});
