import { spawn, spawnSync } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { RpcClient } from "../../../packages/cli/src/client/rpc-client.ts";
import { WsRpc } from "../../../packages/cli/src/client/ws-rpc.ts";
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

const NO_EVENTS = { onNotification() {}, onBinary() {}, onClose() {} };

/** The same call on one persistent connection (the daemon's WebSocket route), one at a time. */
async function wsRoundTrip(ctx: BenchContext): Promise<BenchRow> {
  const n = ctx.quick ? 300 : 3000;
  const rpc = await WsRpc.open(ctx.home.socketPath, NO_EVENTS);
  const subject = summarize(
    await sample(n, async () => void (await rpc.call("daemon.status", {}))),
  );
  rpc.close();
  const echoPath = path.join(ctx.home.root, "echo-ws.sock");
  const server = await startEcho(echoPath);
  const echo = await echoClient(echoPath);
  const baseline = summarize(await sample(n, async () => void (await echo.call())));
  echo.close();
  server.close();
  const ratio = subject.p50 / baseline.p50;
  return {
    suite: "daemon",
    name: "daemon.status round trip on one persistent connection (WebSocket over the Unix socket)",
    subject,
    baselineName: "raw Node Unix-socket JSON echo",
    baseline,
    ratio,
    target: { text: "≤ 3× the echo (p50)", met: ratio <= 3 },
  };
}

/** Calls per second on one connection with many in flight (pipelined), against the echo. */
async function wsPipelined(ctx: BenchContext): Promise<BenchRow> {
  const total = ctx.quick ? 5000 : 30000;
  const inFlight = 64;
  const rpc = await WsRpc.open(ctx.home.socketPath, NO_EVENTS);
  const run = async (call: () => Promise<unknown>) => {
    const started = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next++ < total) await call();
      }),
    );
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  await run(() => rpc.call("daemon.status", {}));
  const wsMs = await run(() => rpc.call("daemon.status", {}));
  rpc.close();
  const perCall = (ms: number) => ({
    n: total,
    p50: ms / total,
    p99: ms / total,
    mean: ms / total,
    perSecond: (total / ms) * 1000,
  });
  const subject = perCall(wsMs);
  const echoPath = path.join(ctx.home.root, "echo-pipe.sock");
  const server = await startEcho(echoPath);
  const sock = net.connect({ path: echoPath });
  await new Promise((r) => sock.once("connect", r));
  const waiting = new Map<number, () => void>();
  let buf = "";
  sock.on("data", (d) => {
    buf += d;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const msg = JSON.parse(buf.slice(0, i)) as { id: number };
      buf = buf.slice(i + 1);
      waiting.get(msg.id)?.();
      waiting.delete(msg.id);
    }
  });
  let id = 0;
  const echoCall = () =>
    new Promise<void>((resolve) => {
      const mine = ++id;
      waiting.set(mine, resolve);
      sock.write(
        `${JSON.stringify({ jsonrpc: "2.0", id: mine, method: "daemon.status", params: {} })}\n`,
      );
    });
  const echoMs = await run(echoCall);
  sock.destroy();
  server.close();
  const baseline = perCall(echoMs);
  return {
    suite: "daemon",
    name: `daemon.status pipelined on one WebSocket, ${inFlight} in flight (${total} calls)`,
    subject,
    baselineName: "the raw echo, pipelined the same way",
    baseline,
    ratio: subject.p50 / baseline.p50,
    target: { text: "≥ 30000 calls/s", met: subject.perSecond >= 30000 },
    unit: { kind: "rate", name: "calls/s" },
  };
}

/**
 * `n` timed runs of `a` and of `b`, one of each per round, which goes first alternating from
 * round to round (after `warmup` untimed rounds): a machine getting busier weighs on both.
 */
async function sideBySide(
  n: number,
  a: () => Promise<void>,
  b: () => Promise<void>,
  warmup: number,
): Promise<[number[], number[]]> {
  const timed = async (fn: () => Promise<void>, into: number[]) => {
    const t0 = process.hrtime.bigint();
    await fn();
    into.push(Number(process.hrtime.bigint() - t0) / 1e6);
  };
  for (let i = 0; i < warmup; i++) {
    await a();
    await b();
  }
  const ms: [number[], number[]] = [[], []];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      await timed(a, ms[0]);
      await timed(b, ms[1]);
    } else {
      await timed(b, ms[1]);
      await timed(a, ms[0]);
    }
  }
  return ms;
}

async function cliWallTime(ctx: BenchContext): Promise<BenchRow> {
  const n = ctx.quick ? 10 : 40;
  const [wm, node] = await sideBySide(
    n,
    () => timeCommand(process.execPath, [WM_BIN, "daemon", "status"], ctx.home.env),
    () => timeCommand(process.execPath, ["-e", "0"], ctx.home.env),
    3,
  );
  const subject = summarize(wm);
  const baseline = summarize(node);
  const ratio = subject.p50 / baseline.p50;
  return {
    suite: "daemon",
    name: "`wm daemon status` wall time",
    subject,
    baselineName: "`node -e 0`",
    baseline,
    ratio,
    target: { text: "≤ 1.5× (p50)", met: ratio <= 1.5 },
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
    return [
      await rpcRoundTrip(ctx),
      await wsRoundTrip(ctx),
      await wsPipelined(ctx),
      await cliWallTime(ctx),
    ];
  },
};
