import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, request, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import {
  type AddressInfo,
  createServer as createNetServer,
  connect as netConnect,
  type Socket,
} from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex, PassThrough } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type EgressEvent,
  type EgressPolicy,
  EgressProxy,
  type EgressProxyOptions,
} from "./proxy.ts";
import type { Resolver } from "./upstream.ts";

const dir = mkdtempSync(join(tmpdir(), "wm-egress-"));
let cert = "";
let key = "";
const cleanups: Array<() => void> = [];

/** A test server on a loopback address, counting the connections it accepted. */
interface TestServer {
  readonly ip: string;
  readonly port: number;
  readonly accepted: () => number;
}

function listen(server: Server, ip: string, port = 0): Promise<TestServer> {
  let accepted = 0;
  server.on("connection", () => accepted++);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, ip, () => {
      cleanups.push(() => server.close());
      server.unref();
      resolve({ ip, port: (server.address() as AddressInfo).port, accepted: () => accepted });
    });
  });
}

function httpsServer(name: string, ip: string, port?: number): Promise<TestServer> {
  const server = createHttpsServer({ key, cert }, (req, res) => {
    res.end(`https ${name} host=${req.headers.host}`);
  });
  return listen(server, ip, port);
}

function httpServer(name: string, ip: string, port?: number): Promise<TestServer> {
  const server = createHttpServer((req, res) => {
    const size = Number(new URL(req.url ?? "/", "http://x").searchParams.get("size") ?? 0);
    if (size > 0) return void res.end(Buffer.alloc(size, 120));
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk));
    req.on("end", () =>
      res.end(`http ${name} ${req.method} ${req.url} host=${req.headers.host} body=${body}`),
    );
  });
  return listen(server, ip, port);
}

let https: TestServer;
let http: TestServer;
const names: Record<string, string> = {
  "allowed.test": "127.0.0.2",
  "denied.test": "127.0.0.2",
  "private.test": "127.0.0.2",
};
const mapResolver: Resolver = async (host) => {
  const address = names[host];
  if (!address) throw Object.assign(new Error(`no such test name ${host}`), { code: "ENOTFOUND" });
  return [{ address, family: 4 }];
};

beforeAll(async () => {
  execFileSync(
    "openssl",
    [
      ..."req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2".split(" "),
      ...[
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-subj",
        "/CN=allowed.test",
      ],
      ...[
        "-addext",
        "subjectAltName=DNS:allowed.test,DNS:denied.test,DNS:private.test,DNS:rebind.test",
      ],
    ],
    { stdio: "ignore" },
  );
  cert = readFileSync(join(dir, "cert.pem"), "utf8");
  key = readFileSync(join(dir, "key.pem"), "utf8");
  https = await httpsServer("main", "127.0.0.2");
  http = await httpServer("main", "127.0.0.2");
});
afterAll(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const proxies: EgressProxy[] = [];
afterEach(() => {
  for (const proxy of proxies.splice(0)) proxy.close();
});

/** A proxy whose sandboxes each get a Unix socket, as the relay will hand connections over. */
function startProxy(
  options: Partial<EgressProxyOptions> & { policy: EgressProxyOptions["policy"] },
) {
  const events: EgressEvent[] = [];
  const proxy = new EgressProxy({
    resolve: mapResolver,
    onDecision: (event) => events.push(event),
    ...options,
  });
  proxies.push(proxy);
  const socketFor = async (sandbox: string) => {
    const path = join(
      dir,
      `${sandbox}-${proxies.length}-${Math.random().toString(36).slice(2)}.sock`,
    );
    const server = createNetServer((socket) => proxy.handleConnection(socket, sandbox));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    cleanups.push(() => server.close());
    return path;
  };
  return { proxy, events, socketFor };
}

/** Both test servers reachable by name, with loopback allowed. */
function openPolicy(extra: string[] = []): EgressPolicy {
  return {
    allowed_domains: [`allowed.test:${https.port}`, `allowed.test:${http.port}`, ...extra],
    allow_private_ips: ["127.0.0.0/8"],
  };
}

interface Tunnel {
  readonly status: number;
  readonly socket: Socket;
  readonly body: string;
}

function readAll(socket: Socket, first: Buffer = Buffer.alloc(0)): Promise<string> {
  return new Promise((resolve) => {
    let text = first.toString();
    socket.on("data", (chunk: Buffer) => (text += chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(text));
  });
}

function connectVia(path: string, target: string): Promise<Tunnel> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: path, method: "CONNECT", path: target, agent: false });
    req.on("connect", async (res, socket: Socket, head: Buffer) => {
      const status = res.statusCode ?? 0;
      if (status === 200) return resolve({ status, socket, body: "" });
      resolve({ status, socket, body: await readAll(socket, head) });
    });
    req.on("error", reject);
    req.end();
  });
}

/** TLS through a tunnel, then one GET; resolves with the response or the failure. */
function tlsGet(socket: Socket, servername: string): Promise<{ ok: boolean; text: string }> {
  return new Promise((resolve) => {
    const tls = tlsConnect({ socket, servername, ca: cert });
    let secure = false;
    tls.once("secureConnect", () => {
      secure = true;
      tls.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
    });
    let text = "";
    tls.on("data", (chunk: Buffer) => (text += chunk));
    tls.on("error", (err) => (text += `error: ${err.message}`));
    tls.on("close", () => resolve({ ok: secure, text }));
  });
}

function getVia(
  path: string,
  url: string,
  method = "GET",
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(
      { socketPath: path, method, path: url, agent: false, headers: { host: "allowed.test" } },
      async (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk));
        res.on("error", () => undefined);
        res.on("close", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", (err) => resolve({ status: 0, body: `error: ${err.message}` }));
    req.end(body);
  });
}

describe("egress proxy: CONNECT", () => {
  it("tunnels to an allowed name and refuses one that is not listed, saying how to allow it", async () => {
    const { socketFor, events } = startProxy({ policy: () => openPolicy() });
    const path = await socketFor("sb");
    const allowed = await connectVia(path, `allowed.test:${https.port}`);
    expect(allowed.status).toBe(200);
    expect(await tlsGet(allowed.socket, "allowed.test")).toMatchObject({
      ok: true,
      text: expect.stringContaining(`https main host=allowed.test`),
    });
    const denied = await connectVia(path, `denied.test:${https.port}`);
    expect(denied.status).toBe(403);
    expect(denied.body).toContain(
      `refused denied.test:${https.port}: denied.test is not in allowed_domains`,
    );
    expect(denied.body).toContain(
      `add "denied.test:${https.port}" to sandbox.network.allowed_domains in the global config file`,
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        sandbox: "sb",
        host: "allowed.test",
        allowed: true,
        address: "127.0.0.2",
      }),
    );
    expect(events).toContainEqual({
      sandbox: "sb",
      host: "denied.test",
      port: https.port,
      method: "CONNECT",
      allowed: false,
      reason: "denied.test is not in allowed_domains",
    });
  });

  it("refuses an IP literal even where its name is allowed", async () => {
    const { socketFor } = startProxy({ policy: () => openPolicy() });
    const path = await socketFor("sb");
    expect((await connectVia(path, `allowed.test:${https.port}`)).status).toBe(200);
    const literal = await connectVia(path, `127.0.0.2:${https.port}`);
    expect(literal.status).toBe(403);
    expect(literal.body).toContain("127.0.0.2 is an IP address");
  });

  it("refuses a name that resolves to a non-public address unless allow_private_ips names it", async () => {
    const domains = [`private.test:${https.port}`];
    let policy: EgressPolicy = { allowed_domains: domains };
    const { socketFor, events } = startProxy({ policy: () => policy });
    const path = await socketFor("sb");
    const before = https.accepted();
    const refused = await connectVia(path, `private.test:${https.port}`);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain("private.test resolves to 127.0.0.2 is a loopback address");
    expect(refused.body).toContain("sandbox.network.allow_private_ips");
    expect(https.accepted()).toBe(before);
    expect(events.at(-1)).toMatchObject({ host: "private.test", allowed: false });

    policy = { allowed_domains: domains, allow_private_ips: ["127.0.0.2/32"] };
    const allowed = await connectVia(path, `private.test:${https.port}`);
    expect(allowed.status).toBe(200);
    expect((await tlsGet(allowed.socket, "private.test")).ok).toBe(true);
    expect(https.accepted()).toBe(before + 1);
  });

  it("refuses a port the entry does not name", async () => {
    const { socketFor } = startProxy({ policy: () => openPolicy() });
    const path = await socketFor("sb");
    const wrong = await connectVia(path, `allowed.test:${http.port + 1}`);
    expect(wrong.status).toBe(403);
    expect(wrong.body).toContain(`not ${http.port + 1}`);
    expect((await connectVia(path, `allowed.test:${https.port}`)).status).toBe(200);
  });

  it("cuts a tunnel whose TLS server name differs from the CONNECT host", async () => {
    const { socketFor, events } = startProxy({ policy: () => openPolicy() });
    const path = await socketFor("sb");
    const tunnel = await connectVia(path, `allowed.test:${https.port}`);
    expect(tunnel.status).toBe(200);
    const result = await tlsGet(tunnel.socket, "denied.test");
    expect(result.ok).toBe(false);
    expect(events).toContainEqual(
      expect.objectContaining({
        host: "allowed.test",
        allowed: false,
        reason: "the TLS server name denied.test differs from the CONNECT host allowed.test",
      }),
    );
    const control = await connectVia(path, `allowed.test:${https.port}`);
    expect((await tlsGet(control.socket, "allowed.test")).ok).toBe(true);
  });

  it("requires TLS on a TLS port; other ports carry other bytes", async () => {
    const { socketFor, events } = startProxy({ policy: () => openPolicy(), tlsPorts: [http.port] });
    const path = await socketFor("sb");
    const request = `GET /raw HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n`;
    const onTlsPort = await connectVia(path, `allowed.test:${http.port}`);
    onTlsPort.socket.write(request);
    expect(await readAll(onTlsPort.socket)).toBe("");
    expect(events).toContainEqual(
      expect.objectContaining({
        allowed: false,
        reason: `port ${http.port} carries only TLS, and this is not`,
      }),
    );

    const { socketFor: socketFor2 } = startProxy({ policy: () => openPolicy() });
    const plain = await connectVia(await socketFor2("sb"), `allowed.test:${http.port}`);
    plain.socket.write(request);
    expect(await readAll(plain.socket)).toContain("http main GET /raw host=allowed.test");
  });
});

describe("egress proxy: plain HTTP", () => {
  it("forwards a request to an allowed name with undici and refuses a denied one", async () => {
    const { socketFor, events } = startProxy({ policy: () => openPolicy() });
    const path = await socketFor("sb");
    const ok = await getVia(path, `http://allowed.test:${http.port}/a?b=1`, "POST", "payload");
    expect(ok).toEqual({
      status: 200,
      body: `http main POST /a?b=1 host=allowed.test:${http.port} body=payload`,
    });
    const denied = await getVia(path, `http://denied.test:${http.port}/`);
    expect(denied.status).toBe(403);
    expect(denied.body).toContain(
      `refused denied.test:${http.port}: denied.test is not in allowed_domains`,
    );
    expect(denied.body).toContain("sandbox.network.allowed_domains");
    await vi.waitFor(() =>
      expect(events).toContainEqual(
        expect.objectContaining({
          method: "POST",
          allowed: true,
          bytes: { up: 7, down: expect.any(Number) },
        }),
      ),
    );
  });

  it("refuses a request that is not in absolute form", async () => {
    const { socketFor } = startProxy({ policy: () => openPolicy() });
    const res = await getVia(await socketFor("sb"), "/relative");
    expect(res.status).toBe(400);
    expect(res.body).toContain("send an absolute http:// URL");
  });

  it("cuts a flow past its byte budget", async () => {
    const { socketFor, events } = startProxy({ policy: () => openPolicy(), maxBytesPerFlow: 1000 });
    const path = await socketFor("sb");
    expect(await getVia(path, `http://allowed.test:${http.port}/?size=500`)).toMatchObject({
      status: 200,
    });
    const big = await getVia(path, `http://allowed.test:${http.port}/?size=5000`);
    expect(big.body).not.toContain("x".repeat(5000));
    await vi.waitFor(() =>
      expect(events).toContainEqual(
        expect.objectContaining({ reason: "cut: byte budget of 1000 bytes exceeded" }),
      ),
    );
  });
});

describe("egress proxy: the address checked is the address connected to", () => {
  it("a resolver that answers differently the second time does not move the connection", async () => {
    const other = {
      https: await httpsServer("other", "127.0.0.3", https.port),
      http: await httpServer("other", "127.0.0.3", http.port),
    };
    let calls = 0;
    const rebinding: Resolver = async () => {
      calls++;
      return [{ address: calls % 2 === 1 ? "127.0.0.2" : "127.0.0.3", family: 4 }];
    };
    const policy = {
      allowed_domains: [`rebind.test:${https.port}`, `rebind.test:${http.port}`],
      allow_private_ips: ["127.0.0.2/32"],
    };
    const { socketFor } = startProxy({ policy: () => policy, resolve: rebinding });
    const path = await socketFor("sb");
    const tunnel = await connectVia(path, `rebind.test:${https.port}`);
    expect(await tlsGet(tunnel.socket, "rebind.test")).toMatchObject({
      ok: true,
      text: expect.stringContaining("https main"),
    });
    calls = 0;
    expect(await getVia(path, `http://rebind.test:${http.port}/x`)).toMatchObject({
      status: 200,
      body: expect.stringContaining("http main GET /x"),
    });
    expect(calls).toBe(1);
    expect(other.https.accepted()).toBe(0);
    expect(other.http.accepted()).toBe(0);
  });
});

describe("egress proxy: limits and live policy", () => {
  it("holds each sandbox to its connection limit; other sandboxes are unaffected", async () => {
    const { proxy, socketFor, events } = startProxy({
      policy: () => openPolicy(),
      maxConnectionsPerSandbox: 2,
    });
    const limited = await socketFor("limited");
    const first = await connectVia(limited, `allowed.test:${https.port}`);
    const second = await connectVia(limited, `allowed.test:${https.port}`);
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await readAll(netConnect(limited));
    expect(third).toMatch(/^HTTP\/1.1 429 Too Many Requests/);
    expect(third).toContain("sandbox has 2 open connections, the limit");
    expect(events).toContainEqual(expect.objectContaining({ sandbox: "limited", allowed: false }));

    const elsewhere = await connectVia(await socketFor("other"), `allowed.test:${https.port}`);
    expect(elsewhere.status).toBe(200);

    first.socket.destroy();
    await vi.waitFor(() => expect(proxy.connections("limited")).toBe(1));
    const again = await connectVia(limited, `allowed.test:${https.port}`);
    expect(again.status).toBe(200);
  });

  it("reads the allow-list at each request", async () => {
    let policy = openPolicy();
    const { socketFor } = startProxy({ policy: () => policy });
    const path = await socketFor("sb");
    expect((await getVia(path, `http://allowed.test:${http.port}/`)).status).toBe(200);
    policy = { ...policy, allowed_domains: [] };
    expect((await getVia(path, `http://allowed.test:${http.port}/`)).status).toBe(403);
    expect((await connectVia(path, `denied.test:${https.port}`)).status).toBe(403);
    policy = { ...policy, allowed_domains: [`denied.test:${https.port}`] };
    expect((await connectVia(path, `denied.test:${https.port}`)).status).toBe(200);
  });

  it("refuses everything when the policy cannot be used", async () => {
    const { socketFor } = startProxy({
      policy: () => ({ allowed_domains: ["allowed.test"], allow_private_ips: ["not-a-range"] }),
    });
    const res = await connectVia(await socketFor("sb"), "allowed.test:443");
    expect(res.status).toBe(403);
    expect(res.body).toContain("sandbox.network.allow_private_ips: not an IP address range");
  });
});

describe("egress proxy: transports", () => {
  it("serves any duplex stream, not only sockets", async () => {
    const { proxy } = startProxy({ policy: () => openPolicy() });
    const toProxy = new PassThrough();
    const fromProxy = new PassThrough();
    const stream = Duplex.from({ readable: toProxy, writable: fromProxy });
    proxy.handleConnection(stream, "sb");
    let text = "";
    fromProxy.on("data", (chunk: Buffer) => (text += chunk));
    toProxy.write(`GET http://denied.test:${http.port}/ HTTP/1.1\r\nHost: denied.test\r\n\r\n`);
    await vi.waitFor(() => expect(text).toContain("denied.test is not in allowed_domains"));
    toProxy.write(`GET http://allowed.test:${http.port}/d HTTP/1.1\r\nHost: allowed.test\r\n\r\n`);
    await vi.waitFor(() => expect(text).toContain("http main GET /d"));
    stream.destroy();
  });

  it("cuts a tunnel past its byte budget", async () => {
    const { socketFor, events } = startProxy({ policy: () => openPolicy(), maxBytesPerFlow: 300 });
    const tunnel = await connectVia(await socketFor("sb"), `allowed.test:${https.port}`);
    expect((await tlsGet(tunnel.socket, "allowed.test")).ok).toBe(false);
    await vi.waitFor(() =>
      expect(events).toContainEqual(
        expect.objectContaining({
          method: "CONNECT",
          reason: "cut: byte budget of 300 bytes exceeded",
        }),
      ),
    );
  });
});

describe("egress proxy: the host's resolver", () => {
  it("resolves with the host's resolver by default (localhost, from the hosts file)", async () => {
    const local = await httpServer("local", "127.0.0.1");
    let policy: EgressPolicy = { allowed_domains: [`localhost:${local.port}`] };
    const proxy = new EgressProxy({ policy: () => policy });
    proxies.push(proxy);
    const path = join(dir, "default-resolver.sock");
    const server = createNetServer((socket) => proxy.handleConnection(socket, "sb"));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    cleanups.push(() => server.close());
    const refused = await getVia(path, `http://localhost:${local.port}/`);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain("is a loopback address");
    policy = { ...policy, allow_private_ips: ["127.0.0.0/8", "::1"] };
    expect(await getVia(path, `http://localhost:${local.port}/h`)).toMatchObject({
      status: 200,
      body: expect.stringContaining("http local GET /h"),
    });
  });
});
