import { promises as fs } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OnceError, parseResponse, requestOnce } from "./http-once.ts";

const bytes = (s: string) => Buffer.from(s, "latin1");

describe("parseResponse", () => {
  it("waits for the whole body a content-length announces", () => {
    const head = "HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n";
    expect(parseResponse(bytes(`${head}{"a":`), false)).toBeUndefined();
    expect(parseResponse(bytes(`${head}{"a":"bcd"}`), false)).toEqual({
      status: 200,
      body: '{"a":"bcd"}',
    });
  });

  it("decodes a chunked body once its last chunk is there", () => {
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect(parseResponse(bytes(`${head}4\r\n{"a"\r\n`), false)).toBeUndefined();
    expect(parseResponse(bytes(`${head}4\r\n{"a"\r\n3\r\n:1}\r\n0\r\n\r\n`), false)).toEqual({
      status: 200,
      body: '{"a":1}',
    });
  });

  it("reads a body without length to the connection's end", () => {
    const text = bytes("HTTP/1.0 421 Misdirected\r\n\r\n{}");
    expect(parseResponse(text, false)).toBeUndefined();
    expect(parseResponse(text, true)).toEqual({ status: 421, body: "{}" });
  });

  it("refuses what is not HTTP, and an answer cut short", () => {
    expect(() => parseResponse(bytes("SSH-2.0-x\r\n\r\n"), false)).toThrow(/not HTTP/);
    expect(() => parseResponse(bytes("HTTP/1.1 200 OK\r\n"), true)).toThrow(/before an answer/);
    expect(() =>
      parseResponse(bytes("HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n{}"), true),
    ).toThrow(/middle of the answer/);
  });
});

describe("requestOnce", () => {
  let dir: string;
  let socketPath: string;
  let server: net.Server | undefined;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-once-"));
    socketPath = path.join(dir, "s.sock");
  });
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });
  const listen = (s: net.Server) =>
    new Promise<void>((resolve) => {
      server = s;
      s.listen(socketPath, resolve);
    });
  const request = (timeoutMs = 10_000) =>
    requestOnce({
      target: { socketPath },
      method: "POST",
      path: "/rpc",
      headers: { host: "localhost", "x-test": "1" },
      body: '{"é":1}',
      timeoutMs,
    });

  it("sends one request with its length and reads a chunked answer from Node's HTTP server", async () => {
    const seen: {
      method?: string;
      url?: string;
      headers?: http.IncomingHttpHeaders;
      body?: string;
    } = {};
    await listen(
      http.createServer((req, res) => {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (c: string) => {
          body += c;
        });
        req.on("end", () => {
          Object.assign(seen, { method: req.method, url: req.url, headers: req.headers, body });
          res.write('{"ok":');
          res.end("true}");
        });
      }),
    );
    expect(await request()).toEqual({ status: 200, body: '{"ok":true}' });
    expect(seen).toMatchObject({
      method: "POST",
      url: "/rpc",
      body: '{"é":1}',
      headers: { host: "localhost", "x-test": "1", "content-length": "8", connection: "close" },
    });
  });

  it("fails with the socket's error code when nothing listens", async () => {
    await expect(request()).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("fails when the server closes in the middle of the answer", async () => {
    await listen(
      net.createServer((c) => {
        c.once("data", () => c.end("HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{"));
      }),
    );
    await expect(request()).rejects.toThrow(/middle of the answer/);
  });

  it("gives up on a server that does not answer", async () => {
    const held: net.Socket[] = [];
    await listen(net.createServer((c) => held.push(c)));
    const err = await request(200).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnceError);
    expect(err).toMatchObject({ code: "ETIMEDOUT" });
    for (const c of held) c.destroy();
  });

  it("refuses a header value with a line break before connecting", async () => {
    await expect(
      requestOnce({
        target: { socketPath },
        method: "POST",
        path: "/rpc",
        headers: { authorization: "Bearer x\r\nx-evil: 1" },
        body: "",
        timeoutMs: 1000,
      }),
    ).rejects.toThrow(/authorization holds a line break/);
  });
});
