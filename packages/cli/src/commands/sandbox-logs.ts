import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { type LineFilter, LOG_OPTIONS, lineCount, printLog } from "./daemon-logs.ts";
import { defineCommand } from "./spec.ts";

/** Daemon log messages that are a sandbox's host commands (one audit line per call). */
const EXEC_MESSAGES = new Set(["host exec", "host exec refused"]);
/** Daemon log messages that are a sandbox's egress decisions (connections and DNS lookups). */
const NET_MESSAGES = new Set([
  "egress allowed",
  "egress denied",
  "egress dns",
  "egress dns denied",
]);

function linesOf(id: string, only: ReadonlySet<string> | undefined): LineFilter {
  return (line) => {
    let rec: { sandbox?: unknown; msg?: unknown };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      return false;
    }
    if (rec.sandbox !== id) return false;
    return !only || only.has(String(rec.msg));
  };
}

export const sandboxLogsCommand = defineCommand({
  name: "logs",
  summary:
    "Print the daemon's log lines about one sandbox (--exec: its host commands, --net: its network)",
  description:
    "Reads the daemon log ($XDG_STATE_HOME/wm/daemon.log and the file before its last rotation) and keeps the lines about one sandbox. With --exec, only its host commands: one line per call with the command, argv, cwd, exit code, duration and bytes each way, and each refused call with the reason. With --net (sandbox.network.policy: deny), only its network: each connection and DNS lookup allowed or denied, with host, port, the reason and, when a connection ends, its bytes each way. A sandbox that has ended is named by its id (sb-…), which earlier lines show.",
  json: true,
  options: {
    exec: {
      type: "boolean",
      description: "only the sandbox's host commands (sandbox.host_commands)",
    },
    net: {
      type: "boolean",
      description:
        "only the sandbox's network: connections and DNS lookups allowed or denied (sandbox.network)",
    },
    ...LOG_OPTIONS,
  },
  args: [{ name: "name", description: "sandbox name or id", required: true }],
  run: async (ctx) => {
    const count = lineCount(ctx);
    const wanted = ctx.args[0] as string;
    const { sandboxes } = await ctx.daemon((c) => c.call("sandbox.list", {}));
    const found = sandboxes.find((s) => s.name === wanted || s.id === wanted);
    if (!found && !/^sb-[0-9a-f]{12}$/.test(wanted)) {
      throw new UsageError(
        `no sandbox named ${wanted}; \`wm sandbox list\` shows them (an ended sandbox is named by its id, sb-…)`,
      );
    }
    await printLog(
      ctx,
      count,
      linesOf(
        found?.id ?? wanted,
        ctx.options.exec === true
          ? ctx.options.net === true
            ? new Set([...EXEC_MESSAGES, ...NET_MESSAGES])
            : EXEC_MESSAGES
          : ctx.options.net === true
            ? NET_MESSAGES
            : undefined,
      ),
      ctx.options.follow === true,
    );
    return ExitCode.Ok;
  },
});
