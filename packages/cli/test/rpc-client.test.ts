import { promises as fs } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { RpcError } from "@wm/protocol/errors";
import { makeTempHome, runWm, type TempHome } from "@wm/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  DaemonConnectionLostError,
  DaemonNotRunningError,
  RpcClient,
} from "../src/client/rpc-client.ts";

let home: TempHome;
const servers: Array<http.Server | net.Server> = [];
const accepted: net.Socket[] = [];
beforeAll(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  for (const c of accepted.splice(0)) c.destroy();
  for (const s of servers.splice(0)) {
    if (s instanceof http.Server) s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});
afterAll(async () => {
  await runWm(["daemon", "stop"], { env: home.env });
  await home.cleanup();
});

let n = 0;
const socketIn = () => path.join(home.root, `s${++n}.sock`);

/** A server on a Unix socket that hands each connection's bytes to `onData`. */
async function rawServer(onData: (conn: net.Socket, text: string) => void): Promise<string> {
  const socketPath = socketIn();
  const server = net.createServer((conn) => {
    accepted.push(conn);
    let text = "";
    conn.on("data", (d) => {
      text += d;
      if (text.includes("\r\n\r\n") && text.endsWith("}")) onData(conn, text);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(socketPath, r));
  return socketPath;
}

const idOf = (request: string) =>
  (JSON.parse(request.slice(request.indexOf("{"))) as { id: number }).id;

describe("RpcClient against the daemon", () => {
  it("calls the daemon, and gets its errors as RpcError", async () => {
    const start = await runWm(["daemon", "start"], { env: home.env });
    expect(start.code, start.stderr).toBe(0);
    const client = new RpcClient(home.socketPath);
    try {
      const first = await client.call("daemon.status", {});
      expect(first.socketPath).toBe(home.socketPath);
      const err = await client
        .call("worktree.list", { cwd: "relative/path", all: false })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RpcError);
      const again = await client.call("daemon.status", {});
      expect(again.pid).toBe(first.pid);
    } finally {
      await client.close();
    }
  });
});

describe("RpcClient over HTTP/1.1", () => {
  it("reads a chunked answer (node:http's own framing)", async () => {
    const socketPath = socketIn();
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        res.setHeader("content-type", "application/json");
        res.write(`{"jsonrpc":"2.0","id":${(JSON.parse(body) as { id: number }).id},`);
        res.end(`"result":{"protocol":${JSON.stringify(req.headers["x-wm-protocol"] ?? null)}}}`);
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(socketPath, r));
    const client = new RpcClient(socketPath);
    try {
      expect(await client.call("daemon.status", {})).toEqual({ protocol: "1" });
    } finally {
      await client.close();
    }
  });

  it("keeps one idle connection, and opens another once the daemon closed it", async () => {
    const socketPath = socketIn();
    const conns: net.Socket[] = [];
    let closeAfterAnswer = false;
    const server = net.createServer({ allowHalfOpen: true }, (conn) => {
      conns.push(conn);
      accepted.push(conn);
      let text = "";
      conn.on("data", (d) => {
        text += d;
        if (!text.endsWith("}")) return;
        const body = JSON.stringify({
          jsonrpc: "2.0",
          id: idOf(text),
          result: { n: conns.length },
        });
        text = "";
        const close = closeAfterAnswer ? "connection: close\r\n" : "";
        conn.write(`HTTP/1.1 200 OK\r\n${close}content-length: ${body.length}\r\n\r\n${body}`);
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(socketPath, r));
    const client = new RpcClient(socketPath);
    try {
      expect(await client.call("daemon.status", {})).toEqual({ n: 1 });
      expect(await client.call("daemon.status", {})).toEqual({ n: 1 });
      // The daemon ends the idle connection; the client's answer (its own end) shows it saw that.
      const first = conns[0] as net.Socket;
      const clientEnded = new Promise((r) => first.once("end", r));
      first.end();
      await clientEnded;
      expect(await client.call("daemon.status", {})).toEqual({ n: 2 });
      // An answer with `connection: close` leaves nothing to reuse.
      closeAfterAnswer = true;
      expect(await client.call("daemon.status", {})).toEqual({ n: 2 });
      expect(await client.call("daemon.status", {})).toEqual({ n: 3 });
      // close() ends the idle connection.
      closeAfterAnswer = false;
      await client.call("daemon.status", {});
      const last = conns.at(-1) as net.Socket;
      const closed = new Promise((r) => last.once("end", r));
      await client.close();
      await closed;
    } finally {
      await client.close();
    }
  });

  it("says no daemon runs when the socket is absent or nothing listens on it", async () => {
    const absent = new RpcClient(path.join(home.root, "absent.sock"));
    await expect(absent.call("daemon.status", {})).rejects.toBeInstanceOf(DaemonNotRunningError);
    // What a killed daemon leaves: a path that no one accepts connections on.
    const stale = socketIn();
    await fs.writeFile(stale, "");
    await expect(new RpcClient(stale).call("daemon.status", {})).rejects.toBeInstanceOf(
      DaemonNotRunningError,
    );
  });

  it("reports a connection lost mid-request or mid-answer, not a daemon that is not running", async () => {
    const dropped = await rawServer((conn) => conn.destroy());
    const lost = await new RpcClient(dropped).call("daemon.status", {}).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(DaemonConnectionLostError);
    const cut = await rawServer((conn) =>
      conn.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"jsonrpc":"2.0"'),
    );
    const short = await new RpcClient(cut).call("daemon.status", {}).catch((e: unknown) => e);
    expect(short).toBeInstanceOf(DaemonConnectionLostError);
    expect((short as Error).message).toContain("response cut short");
  });

  it("refuses an answer that is not JSON, not JSON-RPC, or not to this call", async () => {
    const answer = (body: (id: number) => string) =>
      rawServer((conn, text) => {
        const b = body(idOf(text));
        conn.end(`HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(b)}\r\n\r\n${b}`);
      });
    const cases: Array<[(id: number) => string, RegExp]> = [
      [() => "<html>", /not JSON: <html>/],
      [() => "[1,2]", /not a JSON-RPC response to this call/],
      [(id) => JSON.stringify({ jsonrpc: "2.0", id: id + 1, result: {} }), /to this call/],
      [(id) => JSON.stringify({ jsonrpc: "2.0", id }), /to this call/],
    ];
    for (const [body, message] of cases) {
      const err = await new RpcClient(await answer(body))
        .call("daemon.status", {})
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RpcError);
      expect((err as RpcError).message).toMatch(message);
    }
    const garbled = await rawServer((conn) => conn.end("SSH-2.0-OpenSSH_9.6\r\n\r\n"));
    const err = await new RpcClient(garbled).call("daemon.status", {}).catch((e: unknown) => e);
    expect((err as Error).message).toContain("HTTP answer is malformed: status line");
  });
});
