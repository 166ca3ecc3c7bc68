import { spawn, spawnSync } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { RpcClient } from "../../../packages/cli/src/client/rpc-client.ts";
import { WM_BIN } from "../../../packages/testing/src/index.ts";
import { sample, summarize } from "../stats.ts";
import type { BenchContext, BenchRow, BenchSuite } from "../types.ts";

/** Newline-delimited JSON echo over a Unix socket: the floor any local RPC stands on. */
function startEcho(socketPath: string): Promise<net.Server> {
  const server = net.createServer((conn) => {
    let buf = "";
    conn.on("data", (d) => {
      buf += d;
      let i = buf.indexOf("\n");
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const msg = JSON.parse(line) as { id: number };
        conn.write(`${JSON.stringify({ jsonrpc: "2.0", id: msg.id, result: { ok: true } })}\n`);
        i = buf.indexOf("\n");
      }
    });
  });
  return new Promise((resolve) => server.listen(socketPath, () => resolve(server)));
}

async function echoClient(socketPath: string) {
  const sock = net.connect({ path: socketPath });
  await new Promise((r) => sock.once("connect", r));
  let pending: ((v: unknown) => void) | undefined;
  let buf = "";
  sock.on("data", (d) => {
    buf += d;
    const i = buf.indexOf("\n");
    if (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      pending?.(JSON.parse(line));
    }
  });
  let id = 0;
  return {
    call: () =>
      new Promise((resolve) => {
        pending = resolve;
        sock.write(
          `${JSON.stringify({ jsonrpc: "2.0", id: ++id, method: "daemon.status", params: {} })}\n`,
        );
      }),
    close: () => sock.destroy(),
  };
}

function timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}`)),
    );
  });
}

async function rpcRoundTrip(ctx: BenchContext): Promise<BenchRow> {
  const n = ctx.quick ? 300 : 3000;
  const client = new RpcClient(ctx.home.socketPath);
  const subject = summarize(
    await sample(n, async () => void (await client.call("daemon.status", {}))),
  );
  await client.close();
  const echoPath = path.join(ctx.home.root, "echo.sock");
  const server = await startEcho(echoPath);
  const echo = await echoClient(echoPath);
  const baseline = summarize(await sample(n, async () => void (await echo.call())));
  echo.close();
  server.close();
  return {
    suite: "daemon",
    name: "daemon.status round trip (HTTP over Unix socket)",
    subject,
    baselineName: "raw Node Unix-socket JSON echo",
    baseline,
    ratio: subject.p50 / baseline.p50,
  };
}

async function cliWallTime(ctx: BenchContext): Promise<BenchRow> {
  const n = ctx.quick ? 10 : 40;
  const subject = summarize(
    await sample(
      n,
      () => timeCommand(process.execPath, [WM_BIN, "daemon", "status"], ctx.home.env),
      3,
    ),
  );
  const baseline = summarize(
    await sample(n, () => timeCommand(process.execPath, ["-e", "0"], ctx.home.env), 3),
  );
  return {
    suite: "daemon",
    name: "`wm daemon status` wall time",
    subject,
    baselineName: "`node -e 0`",
    baseline,
    ratio: subject.p50 / baseline.p50,
  };
}

export const daemonSuite: BenchSuite = {
  name: "daemon",
  async run(ctx) {
    const started = spawnSync(process.execPath, [WM_BIN, "daemon", "start"], {
      env: ctx.home.env,
      encoding: "utf8",
    });
    if (started.status !== 0) throw new Error(`wm daemon start failed: ${started.stderr}`);
    return [await rpcRoundTrip(ctx), await cliWallTime(ctx)];
  },
};
