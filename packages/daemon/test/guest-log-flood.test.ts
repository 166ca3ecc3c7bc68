import { promises as fs } from "node:fs";
import http from "node:http";
import os from "node:os";
import { resolvePaths } from "@wm/protocol";
import { makeTempHome, rpcBody, type TempHome } from "@wm/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningDaemon, startDaemon } from "../src/daemon.ts";
import { hashToken, newToken } from "../src/guest/token.ts";
import { createLogger, type Logger, type LoggerOptions } from "../src/log.ts";
import { type GuestEndpoint, openGuestEndpoint } from "../src/sandbox/guest-endpoint.ts";
import type { SandboxRecord } from "../src/sandbox/record.ts";
import { resolveSettings } from "../src/settings.ts";

const FLOOD = 2000;
const SANDBOX = "sb-00000000f100";
const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

interface Bench {
  home: TempHome;
  daemon: RunningDaemon;
  log: Logger;
  logFile: string;
  endpoint: GuestEndpoint;
  token: string;
}

const benches: Bench[] = [];
afterEach(async () => {
  for (const b of benches.splice(0)) {
    await b.endpoint.close();
    await b.daemon.stop("test finished");
    await b.home.cleanup();
  }
});

/**
 * A real daemon on its socket in a temp home, logging as `wmd` does, and one sandbox's TCP
 * guest endpoint opened the way the sandbox manager opens it. The limiter's clock stands
 * still, so what is written does not depend on how fast this machine sends the flood.
 */
async function bench(logOptions: Partial<LoggerOptions>): Promise<Bench> {
  const home = await makeTempHome();
  const paths = resolvePaths({
    env: home.env,
    platform: process.platform,
    uid: owner.uid,
    homedir: home.root,
    tmpdir: os.tmpdir(),
  });
  const log = createLogger({ level: "debug", file: paths.logFile, now: () => 0, ...logOptions });
  const daemon = await startDaemon({
    env: home.env,
    settings: resolveSettings(home.env),
    log,
    paths,
    homedir: home.root,
  });
  const token = newToken();
  const endpoint = await openGuestEndpoint(
    daemon.context,
    { id: SANDBOX, worktree: home.root },
    owner,
    {
      transport: "tcp",
      host: "127.0.0.1",
      port: 0,
      tokenHash: hashToken(token),
    },
  );
  // The flood comes from this host, standing in for the sandbox container's address.
  endpoint.admitPeers(["127.0.0.1"]);
  const b = { home, daemon, log, logFile: paths.logFile, endpoint, token };
  benches.push(b);
  return b;
}

/** POSTs `body` to the endpoint `count` times, a few connections at a time; the statuses seen. */
async function flood(b: Bench, count: number, token: string, body: string) {
  const port = b.endpoint.port as number;
  const statuses: number[] = [];
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/rpc",
          agent: false,
          headers: {
            host: `127.0.0.1:${port}`,
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      statuses.push(await one());
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return statuses;
}

async function logLines(b: Bench): Promise<Record<string, unknown>[]> {
  await new Promise<void>((resolve, reject) =>
    b.log.flush((err) => (err ? reject(err) : resolve())),
  );
  const text = await fs.readFile(b.logFile, "utf8");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const fromSandbox = (lines: Record<string, unknown>[], msg: string) =>
  lines.filter((l) => l.sandbox === SANDBOX && String(l.msg).startsWith(msg));
const suppressedIn = (lines: Record<string, unknown>[]) =>
  lines.reduce((sum, l) => sum + (typeof l.suppressed === "number" ? l.suppressed : 0), 0);

describe("a sandbox cannot make the daemon log without bound", () => {
  const WRONG = "guest call with a wrong token refused";

  it(`control: without the limiter, ${FLOOD} wrong-token calls write ${FLOOD} lines`, async () => {
    const b = await bench({ limit: false });
    const before = (await logLines(b)).length;
    const statuses = await flood(b, FLOOD, "not-the-token", rpcBody("status.get"));
    expect(statuses.filter((s) => s === 401)).toHaveLength(FLOOD);
    const lines = await logLines(b);
    expect(lines.length - before).toBeGreaterThanOrEqual(FLOOD);
    expect(fromSandbox(lines, WRONG)).toHaveLength(FLOOD);
  });

  it(`with it, ${FLOOD} wrong-token calls write a few lines and a count of the rest`, async () => {
    const b = await bench({});
    const before = (await logLines(b)).length;
    const statuses = await flood(b, FLOOD, "not-the-token", rpcBody("status.get"));
    expect(statuses.filter((s) => s === 401)).toHaveLength(FLOOD);
    const lines = await logLines(b);
    expect(lines.length - before).toBeLessThanOrEqual(20);
    const written = fromSandbox(lines, WRONG);
    const summaries = written.filter((l) => l.suppressed !== undefined);
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(summaries[0]?.msg).toMatch(
      /^guest call with a wrong token refused \(\d+ similar suppressed\)$/,
    );
    expect(written.length - summaries.length + suppressedIn(summaries)).toBe(FLOOD);
  });

  it("notifications are limited too (control: without the limiter each accepted one is a line)", async () => {
    const notifyFlood = async (options: Partial<LoggerOptions>) => {
      const b = await bench(options);
      await b.daemon.context.sandboxes.ready();
      await b.daemon.context.sandboxes.registry.put(record(b.home.root));
      const body = rpcBody("agent.notify", { message: "look at me" });
      const statuses = await flood(b, 300, b.token, body);
      return {
        accepted: statuses.filter((s) => s === 200).length,
        lines: fromSandbox(await logLines(b), "agent notification"),
      };
    };
    const unlimited = await notifyFlood({ limit: false });
    const limited = await notifyFlood({});
    // The per-sandbox request limit already refuses most of them; each accepted one is logged.
    expect(unlimited.accepted).toBeGreaterThan(10);
    expect(unlimited.lines).toHaveLength(unlimited.accepted);
    expect(limited.accepted).toBeGreaterThan(10);
    const summaries = limited.lines.filter((l) => l.suppressed !== undefined);
    expect(limited.lines.length - summaries.length).toBe(10);
    expect(10 + suppressedIn(summaries)).toBe(limited.accepted);
  });
});

function record(worktree: string): SandboxRecord {
  return {
    id: SANDBOX,
    name: "flood",
    worktree,
    git: { commonDir: `${worktree}/.git`, adminDir: `${worktree}/.git/worktrees/flood` },
    runtime: "docker",
    image: "wm-sandbox:demo",
    containerName: `wm-${SANDBOX}`,
    containerId: "c1",
    state: "running",
    exitCode: null,
    createdAt: new Date().toISOString(),
    command: ["true"],
    tty: false,
    user: `${owner.uid}:${owner.gid}`,
    transport: "tcp",
    tokenHash: null,
    tcpHost: null,
    tcpPort: null,
    agentStatus: null,
  };
}
