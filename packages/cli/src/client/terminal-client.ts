import { setTimeout as sleep } from "node:timers/promises";
import type { Params, SandboxSummary, WmPaths } from "@wm/protocol";
import { RpcError } from "@wm/protocol/errors";
import { DaemonNotRunningError, RpcClient } from "./rpc-client.ts";
import { startAndWait } from "./start-daemon.ts";
import { WsRpc } from "./ws-rpc.ts";

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
/** How long a client keeps trying to re-attach after the daemon went away. */
const REATTACH_WINDOW_MS = 60_000;

export interface TerminalIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

export interface TerminalOptions {
  paths: WmPaths;
  env: NodeJS.ProcessEnv;
  io: TerminalIo;
  /** Start a new sandbox, or attach to an existing one by id or name. */
  target: { run: Params<"sandbox.run"> } | { attach: string };
  onStarted?(sandbox: SandboxSummary): void;
}

/** After losing the daemon, give whoever stopped it (`wm daemon restart`) this long to start the next one. */
const RESTART_GRACE_MS = 3000;
/** The WebSocket close code of a daemon that is shutting down. */
const GOING_AWAY = 1001;

async function openWs(
  opts: TerminalOptions,
  handlers: Parameters<typeof WsRpc.open>[1],
  graceMs = 0,
): Promise<WsRpc> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    try {
      return await WsRpc.open(opts.paths.socketPath, handlers);
    } catch (err) {
      if (!(err instanceof DaemonNotRunningError)) throw err;
      if (Date.now() >= deadline) break;
      await sleep(100);
    }
  }
  const client = new RpcClient(opts.paths.socketPath);
  try {
    await startAndWait({ paths: opts.paths, env: opts.env }, client);
  } finally {
    await client.close();
  }
  return WsRpc.open(opts.paths.socketPath, handlers);
}

function size(io: TerminalIo) {
  return io.stdout.isTTY && io.stdout.rows && io.stdout.columns
    ? { rows: io.stdout.rows, cols: io.stdout.columns }
    : undefined;
}

/**
 * Attach this terminal to a sandbox through the daemon: raw mode and resize on a TTY, plain
 * pipes otherwise; stdin forwarded (EOF included); exit code passed back. If the daemon goes
 * away (restart, crash), re-attach to the same sandbox, which kept running.
 */
export async function runTerminal(opts: TerminalOptions): Promise<number> {
  const { io } = opts;
  const tty = Boolean(io.stdin.isTTY && io.stdout.isTTY);
  let rpc: WsRpc | undefined;
  let sandboxId: string | undefined;
  let exitCode: number | undefined;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => {
    resolveExit = r;
  });
  let disconnected: ((code: number) => void) | undefined;
  const handlers = {
    onNotification(method: string, params: Record<string, unknown>) {
      if (method === "sandbox.exit" && (sandboxId === undefined || params.id === sandboxId)) {
        exitCode = Number(params.exitCode ?? 1);
        resolveExit(exitCode);
      }
    },
    onBinary(frame: Buffer) {
      if (frame[0] === STDOUT) io.stdout.write(frame.subarray(1));
      else if (frame[0] === STDERR) io.stderr.write(frame.subarray(1));
    },
    onClose(code: number) {
      disconnected?.(code);
    },
  };

  const onData = (chunk: Buffer) => rpc?.sendBinary(Buffer.concat([Buffer.from([STDIN]), chunk]));
  const onEnd = () => rpc?.sendBinary(Buffer.from([STDIN]));
  const onResize = () => {
    const s = size(io);
    if (s && sandboxId)
      rpc?.call("sandbox.resize", { id: sandboxId, size: s }).catch(() => undefined);
  };
  let interrupts = 0;
  const sendInterrupt = () => {
    if (!sandboxId || interrupts === 0) return;
    if (tty) {
      // What the keyboard's Ctrl-C does in raw mode: the sandbox's own terminal turns it into
      // SIGINT for its foreground process group (a shell waiting on a child included).
      for (; interrupts > 0; interrupts--) rpc?.sendBinary(Buffer.from([STDIN, 0x03]));
      return;
    }
    rpc
      ?.call("sandbox.signal", { id: sandboxId, signal: interrupts > 1 ? "SIGKILL" : "SIGINT" })
      .catch(() => undefined);
  };
  const onSigint = () => {
    interrupts++;
    sendInterrupt();
  };

  // Output can arrive before the run call returns, and on a terminal the keyboard's Ctrl-C is
  // a signal until raw mode is on: take it from the start and pass it on once the sandbox runs.
  process.on("SIGINT", onSigint);
  try {
    rpc = await openWs(opts, handlers);
    const first =
      "run" in opts.target
        ? await rpc.call("sandbox.run", { ...opts.target.run, tty, size: size(io) })
        : await rpc.call("sandbox.attach", { id: opts.target.attach, size: size(io) });
    sandboxId = first.sandbox.id;
    sendInterrupt();
    opts.onStarted?.(first.sandbox);
    if (tty) io.stdin.setRawMode(true);
    io.stdin.on("data", onData);
    io.stdin.once("end", onEnd);
    io.stdin.resume();
    if (tty) io.stdout.on("resize", onResize);

    for (;;) {
      const lost = new Promise<{ closeCode: number }>((r) => {
        disconnected = (closeCode) => r({ closeCode });
      });
      const outcome = await Promise.race([exited, lost]);
      if (typeof outcome === "number") return outcome;
      // A daemon that stops on purpose says so (1001, going away) and its successor may be on
      // the way; one that crashed just vanishes, and the first client back starts the next.
      const grace = outcome.closeCode === GOING_AWAY ? RESTART_GRACE_MS : 0;
      rpc = await reattach(opts, handlers, sandboxId, grace);
    }
  } finally {
    if (tty && io.stdin.isTTY) io.stdin.setRawMode(false);
    io.stdin.off("data", onData);
    io.stdin.off("end", onEnd);
    io.stdin.pause();
    io.stdout.off("resize", onResize);
    process.off("SIGINT", onSigint);
    rpc?.close();
  }
}

async function reattach(
  opts: TerminalOptions,
  handlers: Parameters<typeof WsRpc.open>[1],
  id: string,
  graceMs: number,
): Promise<WsRpc> {
  const deadline = Date.now() + REATTACH_WINDOW_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const rpc = await openWs(opts, handlers, graceMs);
      await rpc.call("sandbox.attach", { id, size: size(opts.io) });
      return rpc;
    } catch (err) {
      if (err instanceof RpcError && err.is("NotFound")) throw err;
      lastError = err;
      await sleep(200);
    }
  }
  throw new Error(
    `lost the daemon and could not re-attach to sandbox ${id}: ${(lastError as Error)?.message}`,
  );
}
