import type { Result } from "@wm/protocol";
import { PROTOCOL_VERSION, WM_VERSION } from "@wm/protocol/version";
import { DaemonNotRunningError, RpcClient } from "../client/rpc-client.ts";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { formatDuration, report, table } from "../output.ts";
import { defineCommand } from "./spec.ts";

type Status = Result<"daemon.status">;

function renderStatus(s: Status): string {
  return table([
    ["state", "running"],
    ["version", `${s.version} (protocol ${s.protocolVersion})`],
    ["pid", String(s.pid)],
    ["uptime", formatDuration(s.uptimeMs)],
    ["socket", `${s.socketPath}${s.socketActivated ? " (socket-activated)" : ""}`],
    ["log", s.logFile],
    ["sandboxes", `${s.liveSandboxes} live`],
    [
      "idle exit",
      s.idleTimeoutMs === 0 ? "never" : `after ${formatDuration(s.idleTimeoutMs)} idle`,
    ],
  ]);
}

export function mismatchError(s: Pick<Status, "version" | "protocolVersion">): CliError {
  return new CliError(
    `the running daemon is wm ${s.version} (protocol ${s.protocolVersion}), this wm is ${WM_VERSION} (protocol ${PROTOCOL_VERSION})`,
    ExitCode.VersionMismatch,
    "run `wm daemon restart` to replace it with this version",
  );
}

const start = defineCommand({
  name: "start",
  summary: "Start the daemon if it is not running",
  json: true,
  run: async (ctx) => {
    const status = await ctx.daemon((c) => c.call("daemon.status", {}));
    report(ctx, status, (s) => `wm daemon running, pid ${s.pid}, socket ${s.socketPath}`);
    if (status.protocolVersion !== PROTOCOL_VERSION) throw mismatchError(status);
    return ExitCode.Ok;
  },
});

const stop = defineCommand({
  name: "stop",
  summary: "Stop the daemon after its in-flight calls finish",
  json: true,
  run: async (ctx) => {
    const { stopDaemon } = await import("../client/stop-daemon.ts");
    const outcome = await stopDaemon(ctx.paths());
    report(ctx, outcome, (o) =>
      o.state === "not-running"
        ? "no wm daemon was running"
        : `wm daemon stopped (pid ${o.pid ?? "?"})`,
    );
    return ExitCode.Ok;
  },
});

const restart = defineCommand({
  name: "restart",
  summary: "Stop the running daemon (any version) and start this version's",
  json: true,
  run: async (ctx) => {
    const paths = ctx.paths();
    const [{ stopDaemon }, { startAndWait }] = await Promise.all([
      import("../client/stop-daemon.ts"),
      import("../client/start-daemon.ts"),
    ]);
    const stopped = await stopDaemon(paths);
    const client = new RpcClient(paths.socketPath);
    try {
      await startAndWait({ paths, env: ctx.env }, client);
      const status = await client.call("daemon.status", {});
      report(
        ctx,
        { stopped, status },
        ({ status: s }) => `wm daemon restarted, pid ${s.pid}, version ${s.version}`,
      );
      if (status.protocolVersion !== PROTOCOL_VERSION) throw mismatchError(status);
    } finally {
      await client.close();
    }
    return ExitCode.Ok;
  },
});

const status = defineCommand({
  name: "status",
  summary: "Show whether the daemon runs, its version, pid, uptime and socket",
  description: "Does not start the daemon. Exits 3 when none is running.",
  json: true,
  run: async (ctx) => {
    let s: Status;
    try {
      s = await ctx.daemon((c) => c.call("daemon.status", {}), { autoStart: false });
    } catch (err) {
      if (!(err instanceof DaemonNotRunningError)) throw err;
      if (ctx.json)
        ctx.io.stdout.write(
          `${JSON.stringify({ state: "not-running", socketPath: ctx.paths().socketPath })}\n`,
        );
      else ctx.io.stdout.write(`wm daemon not running (socket ${ctx.paths().socketPath})\n`);
      return ExitCode.DaemonUnavailable;
    }
    report(ctx, s, renderStatus);
    if (s.protocolVersion !== PROTOCOL_VERSION) throw mismatchError(s);
    return ExitCode.Ok;
  },
});

/** `status` and `start` load none of the other subcommands' code (spawning, logs, services). */
export const daemonCommand = defineCommand({
  name: "daemon",
  summary: "Start, stop and inspect the per-user daemon",
  subcommands: [
    start,
    stop,
    restart,
    status,
    { name: "logs", load: async () => (await import("./daemon-logs.ts")).logsCommand },
    {
      name: "install-service",
      load: async () => (await import("./daemon-service.ts")).installServiceCommand,
    },
    {
      name: "uninstall-service",
      load: async () => (await import("./daemon-service.ts")).uninstallServiceCommand,
    },
  ],
});
