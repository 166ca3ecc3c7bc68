import type { EVENT_NOTIFICATION as EventMethod, WmEvent, WorktreeSummary } from "@wm/protocol";
import { WsRpc } from "../client/ws-rpc.ts";
import { CliError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { defineCommand } from "./spec.ts";

const STATUSES = ["working", "waiting", "done"] as const;
const EVENT_NOTIFICATION: typeof EventMethod = "events.event";

function pick(worktrees: readonly WorktreeSummary[], name: string): WorktreeSummary | undefined {
  return worktrees.find((w) => w.handle === name || w.branch === name || w.path === name);
}

export const waitCommand = defineCommand({
  name: "wait",
  summary: "Wait until agents reach a status (default: done)",
  description: [
    "Returns once every named worktree's agent has reported STATUS (with --any: once one has).",
    "A status already reported counts. Event-driven: the daemon pushes each change; nothing polls.",
    "Exits 1 on timeout or when a worktree is removed while waiting.",
  ].join("\n"),
  json: true,
  args: [{ name: "name", description: "worktree names or branches", variadic: true }],
  options: {
    status: {
      type: "string",
      valueName: "STATUS",
      description: "status to wait for (default: done)",
      choices: STATUSES,
    },
    timeout: { type: "string", valueName: "SECONDS", description: "give up after SECONDS" },
    any: { type: "boolean", description: "return when any one of them reaches the status" },
  },
  run: async (ctx) => {
    if (ctx.args.length === 0)
      throw new UsageError("name at least one worktree", "usage: wm wait NAME... [--status done]");
    const want = typeof ctx.options.status === "string" ? ctx.options.status : "done";
    const timeout =
      typeof ctx.options.timeout === "string" ? Number(ctx.options.timeout) : undefined;
    if (timeout !== undefined && !(timeout > 0))
      throw new UsageError(`--timeout takes seconds > 0, got "${ctx.options.timeout}"`);
    await ctx.daemon((c) => c.call("daemon.status", {}));

    const reached = new Set<string>();
    const watched = new Map<string, string>();
    let settle: (outcome: { ok: boolean; reason?: string }) => void = () => undefined;
    const outcome = new Promise<{ ok: boolean; reason?: string }>((r) => {
      settle = r;
    });
    const check = () => {
      const done = ctx.options.any
        ? reached.size > 0
        : watched.size > 0 && reached.size === watched.size;
      if (done) settle({ ok: true });
    };
    const onEvent = (event: WmEvent) => {
      const path = typeof event.data.worktree === "string" ? event.data.worktree : undefined;
      const name = path ? watched.get(path) : undefined;
      if (!path || !name) return;
      if (event.topic === "status" && event.data.status === want) reached.add(path);
      if (event.topic === "worktree" && event.type === "removed" && !reached.has(path)) {
        settle({ ok: false, reason: `${name} was removed while waiting` });
      }
      check();
    };
    const ws = await WsRpc.open(ctx.paths().socketPath, {
      onNotification: (method, params) => {
        if (method === EVENT_NOTIFICATION) onEvent(params as WmEvent);
      },
      onBinary: () => undefined,
      onClose: () => settle({ ok: false, reason: "the daemon closed the connection" }),
    });
    const timer = timeout
      ? setTimeout(
          () => settle({ ok: false, reason: `timed out after ${timeout} s` }),
          timeout * 1000,
        )
      : undefined;
    try {
      await ws.call("events.subscribe", { topics: ["status", "worktree"] });
      const here = (await ws.call("worktree.status", { cwd: ctx.cwd, all: false })).worktrees;
      const everywhere = (await ws.call("worktree.status", { all: true })).worktrees;
      for (const name of ctx.args) {
        const found = pick(here, name) ?? pick(everywhere, name);
        if (!found)
          throw new CliError(
            `no worktree named "${name}"`,
            ExitCode.Failure,
            "`wm list --all` shows them",
          );
        watched.set(found.path, name);
        if (found.status === want) reached.add(found.path);
      }
      check();
      const result = await outcome;
      const doc = {
        ok: result.ok,
        status: want,
        reached: [...reached].map((p) => watched.get(p)),
        reason: result.reason ?? null,
      };
      report(ctx, doc, (d) => (d.ok ? `${d.reached.join(", ")}: ${want}` : ""));
      if (!result.ok) throw new CliError(result.reason ?? "wait failed", ExitCode.Failure);
      return ExitCode.Ok;
    } finally {
      if (timer) clearTimeout(timer);
      ws.close();
    }
  },
});
