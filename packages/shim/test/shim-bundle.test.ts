// The shim as sandboxes run it: dist/wm-shim.cjs under node, against an endpoint directory of
// the test's own (the real daemon's guest endpoint is covered by the container tests in cli/).
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DIST } from "../../testing/src/repo-root.ts";

const SHIM = path.join(DIST, "wm-shim.cjs");

interface Seen {
  method?: string;
  url?: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Node's own modules the run loaded (process.moduleLoadList at exit). */
  modules: string[];
}

let dir: string;
let server: http.Server | undefined;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-shim-"));
});
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
  await fs.rm(dir, { recursive: true, force: true });
});

/** An endpoint that answers every call with `answer` and records what it was sent. */
function serve(answer: object, seen: Seen[]): http.Server {
  server = http.createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      text += c;
    });
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: JSON.parse(text) });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, ...answer }));
    });
  });
  return server;
}

async function serveSocket(answer: object, seen: Seen[]): Promise<void> {
  await fs.writeFile(
    path.join(dir, "endpoint.json"),
    '{"transport":"socket","socket":"guest.sock"}',
  );
  const s = serve(answer, seen);
  await new Promise<void>((r) => s.listen(path.join(dir, "guest.sock"), r));
}

async function runShim(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const modules = path.join(dir, "modules.txt");
  const dump = path.join(dir, "dump.cjs");
  await fs.writeFile(
    dump,
    `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(modules)}, process.moduleLoadList.join("\\n")));\n`,
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--require", dump, SHIM, ...args],
      { env: { PATH: process.env.PATH, WM_GUEST_DIR: dir, ...env }, encoding: "utf8" },
      async (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
        const list = await fs.readFile(modules, "utf8").catch(() => "");
        resolve({ code, stdout, stderr, modules: list.split("\n") });
      },
    );
  });
}

/** Node modules a one-shot call has no use for: the HTTP client, TLS, compression, processes. */
const HEAVY = ["http", "https", "tls", "zlib", "child_process", "dgram", "crypto"];

describe("the shim bundle", () => {
  it("status set is one JSON-RPC call on the socket, made without Node's HTTP, TLS or zlib", async () => {
    const seen: Seen[] = [];
    await serveSocket({ result: { status: "working" } }, seen);
    const run = await runShim(["status", "set", "working"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: "POST",
      url: "/rpc",
      headers: { host: "localhost", "x-wm-protocol": "1", "content-type": "application/json" },
      body: { jsonrpc: "2.0", id: 1, method: "status.set", params: { status: "working" } },
    });
    const loaded = HEAVY.filter((m) => run.modules.includes(`NativeModule ${m}`));
    expect(loaded).toEqual([]);
  });

  it("over TCP it sends the token and the host:port the endpoint names", async () => {
    const seen: Seen[] = [];
    const s = serve({ result: { status: "done", worktree: "/w", sandbox: "sb-1" } }, seen);
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as AddressInfo).port;
    await fs.writeFile(
      path.join(dir, "endpoint.json"),
      JSON.stringify({ transport: "tcp", host: "127.0.0.1", port }),
    );
    await fs.writeFile(path.join(dir, "token"), "tok-123\n");
    const run = await runShim(["status", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ status: "done", worktree: "/w", sandbox: "sb-1" });
    expect(seen[0]?.headers).toMatchObject({
      host: `127.0.0.1:${port}`,
      authorization: "Bearer tok-123",
    });
  });

  it("a daemon's refusal exits 6 with its message; no daemon exits 3", async () => {
    const seen: Seen[] = [];
    await serveSocket({ error: { code: -32008, message: "not yours" } }, seen);
    const refused = await runShim(["notify", "hello"]);
    expect(refused).toMatchObject({ code: 6, stderr: "wm: not yours\n" });
    await new Promise((r) => server?.close(r));
    server = undefined;
    const gone = await runShim(["status", "set", "done"]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(
      /cannot reach the wm daemon from this sandbox \((ENOENT|ECONNREFUSED)\)/,
    );
  });

  it("--help and --version answer without touching the endpoint", async () => {
    const help = await runShim(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("wm status set working|waiting|done|clear");
    const version = await runShim(["--version"]);
    expect(version).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/\(sandbox shim\)\n$/),
    });
    expect(HEAVY.filter((m) => version.modules.includes(`NativeModule ${m}`))).toEqual([]);
  });
});
