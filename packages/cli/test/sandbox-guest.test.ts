import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import {
  killDaemon,
  type ListedSandbox,
  makeSandboxHome,
  runCommand,
  runWm,
  type SandboxHome,
  startSandboxClient,
  type TempHome,
  type TestRepo,
  waitForRunningSandbox,
} from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const OWNER = { uid: 1000, gid: 1000 };
let home: TempHome;
let repo: TestRepo;

let bench: SandboxHome;
beforeAll(async () => {
  bench = await makeSandboxHome({
    config: "agent: demo\nsandbox:\n  rpc_transport: tcp\n",
    branches: ["alpha", "beta"],
    owner: OWNER,
  });
  home = bench.home;
  repo = bench.repo;
}, 320_000);

afterAll(() => bench.cleanup());

type Listed = ListedSandbox;

/** A long-running sandbox for `branch`, started as a pane would (the client lives in the background). */
async function startLong(branch: string): Promise<Listed> {
  const client = startSandboxClient(home.env, repo.worktrees[branch] as string, "sleep 600");
  client.child.unref();
  return waitForRunningSandbox(home.env, (s) => s.name === branch);
}

/** A JSON-RPC call from inside a container, with the host's node mounted at /opt/wm. */
function callFrom(
  containerId: string,
  target: { host: string; port: number },
  token: string,
  method: string,
): unknown {
  const script = `
    const http = require("http");
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: ${JSON.stringify(method)}, params: {} });
    const req = http.request({ host: ${JSON.stringify(target.host)}, port: ${target.port}, method: "POST", path: "/rpc",
      headers: { host: ${JSON.stringify(`${target.host}:${target.port}`)}, authorization: "Bearer " + ${JSON.stringify(token)} } },
      (res) => { let t = ""; res.on("data", (c) => t += c); res.on("end", () => console.log(JSON.stringify({ status: res.statusCode, body: JSON.parse(t) }))); });
    req.end(body);`;
  const out = execFileSync(
    "docker",
    [
      "exec",
      containerId,
      "/opt/wm/lib/ld-linux-x86-64.so.2",
      "--library-path",
      "/opt/wm/lib",
      "/opt/wm/node",
      "-e",
      script,
    ],
    { encoding: "utf8" },
  );
  return JSON.parse(out);
}

async function endpointOf(id: string): Promise<{ host: string; port: number; token: string }> {
  const dir = path.join(home.runtimeDir, "sandboxes", id);
  const ep = JSON.parse(await fs.readFile(path.join(dir, "endpoint.json"), "utf8"));
  return {
    host: ep.host,
    port: ep.port,
    token: (await fs.readFile(path.join(dir, "token"), "utf8")).trim(),
  };
}

describe("the TCP guest endpoint", () => {
  let a: Listed;
  let b: Listed;
  beforeAll(async () => {
    a = await startLong("alpha");
    b = await startLong("beta");
  }, 60_000);

  it("the shim works over TCP with the token from /run/wm", async () => {
    const out = execFileSync(
      "docker",
      ["exec", a.containerId, "sh", "-c", "wm status set waiting && wm status"],
      {
        encoding: "utf8",
      },
    );
    expect(out.trim()).toBe("waiting");
  });

  it("another sandbox gets no answer from this endpoint, not even with its token; its own sandbox does (control)", async () => {
    const epA = await endpointOf(a.id);
    const epB = await endpointOf(b.id);
    expect(epA.port).not.toBe(epB.port);
    expect(() => callFrom(a.containerId, epB, epA.token, "status.get")).toThrow();
    expect(() => callFrom(a.containerId, epB, epB.token, "status.get")).toThrow();
    const control = callFrom(b.containerId, epB, epB.token, "status.get") as {
      status: number;
      body: { result: { sandbox: string } };
    };
    expect(control.status).toBe(200);
    expect(control.body.result.sandbox).toBe(b.id);
    const noToken = callFrom(a.containerId, epA, "", "status.get") as {
      status: number;
      body: { error: { code: number } };
    };
    expect(noToken.status).toBe(401);
    expect(noToken.body.error.code).toBe(-32009);
  });

  it("pair: a container that is not a sandbox reaches a listener on the gateway, but not the endpoint", async () => {
    const epA = await endpointOf(a.id);
    const other = http.createServer((_req, res) => res.end("reached"));
    await new Promise<void>((resolve) => other.listen(0, epA.host, resolve));
    // Asynchronous: the control's listener is served by this process.
    const curl = (port: number) =>
      runCommand(
        "docker",
        ["run", "--rm", "--entrypoint", "curl", "wm-sandbox:demo", "-sS", "-m", "20"]
          .concat(["-H", `authorization: Bearer ${epA.token}`, "-d", "{}"])
          .concat([`http://${epA.host}:${port}/rpc`]),
      );
    try {
      const control = await curl((other.address() as AddressInfo).port);
      expect(control.code, control.stderr).toBe(0);
      expect(control.stdout).toBe("reached");
      const logBefore = (await fs.readFile(home.logFile, "utf8")).length;
      const attack = await curl(epA.port);
      expect(attack.code).not.toBe(0);
      expect(attack.stderr).toMatch(/Empty reply|reset|Recv failure/i);
      const logged = (await fs.readFile(home.logFile, "utf8")).slice(logBefore);
      expect(logged).not.toContain(a.id);
    } finally {
      other.close();
    }
  });

  it("host methods are not served to a guest, even with a valid token", async () => {
    const epA = await endpointOf(a.id);
    const res = callFrom(a.containerId, epA, epA.token, "daemon.shutdown") as {
      body: { error: { code: number } };
    };
    expect(res.body.error.code).toBe(-32601);
    expect((await runWm(["daemon", "status"], { env: home.env })).code).toBe(0);
  });

  it("the token is in no environment, inspect output, process argument or log", async () => {
    const { token } = await endpointOf(a.id);
    expect(token.length).toBeGreaterThanOrEqual(43);
    const inspect = execFileSync("docker", ["inspect", a.containerId], { encoding: "utf8" });
    expect(inspect).not.toContain(token);
    const inside = execFileSync(
      "docker",
      [
        "exec",
        a.containerId,
        "sh",
        "-c",
        "cat /proc/1/environ /proc/*/cmdline 2>/dev/null | tr '\\0' '\\n'; env",
      ],
      { encoding: "utf8" },
    );
    expect(inside).not.toContain(token);
    const hostArgs = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
    expect(hostArgs).not.toContain(token);
    expect(await fs.readFile(home.logFile, "utf8")).not.toContain(token);
    const perms = await fs.stat(path.join(home.runtimeDir, "sandboxes", a.id, "token"));
    expect(perms.mode & 0o777).toBe(0o400);
    expect(perms.uid).toBe(OWNER.uid);
  });

  it("a TCP sandbox whose record was lost is rebuilt from its labels; its shim keeps working", async () => {
    expect(await killDaemon(home)).toBeDefined();
    await fs.rm(path.join(home.stateDir, "sandboxes", `${a.id}.json`));
    const again = await waitForRunningSandbox(home.env, (s) => s.id === a.id);
    expect(again.containerId).toBe(a.containerId);
    const out = execFileSync(
      "docker",
      ["exec", a.containerId, "sh", "-c", "wm status set done && wm status"],
      { encoding: "utf8" },
    );
    expect(out.trim()).toBe("done");
  });

  it("revokes the endpoint when the sandbox ends", async () => {
    const epB = await endpointOf(b.id);
    await runWm(["sandbox", "stop", "beta"], { env: home.env });
    await expect(fs.stat(path.join(home.runtimeDir, "sandboxes", b.id))).rejects.toThrow(/ENOENT/);
    expect(() => callFrom(a.containerId, epB, epB.token, "status.get")).toThrow();
  });
});
