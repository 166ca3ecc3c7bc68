import { RpcError } from "@wm/protocol/errors";
import { displaySafe } from "@wm/protocol/text";
import { deniedByWorktree, deniedText } from "../egress-text.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { columns, report } from "../output.ts";
import { ago } from "../worktree/render.ts";
import { tmuxClientFromEnv } from "../worktree/tmux-env.ts";
import { defineCommand } from "./spec.ts";

const STATUSES = ["working", "waiting", "done"] as const;
type Status = (typeof STATUSES)[number];

function parseOnlyIf(value: string | boolean | undefined): Status[] | undefined {
  if (typeof value !== "string") return undefined;
  const list = value.split(",").filter(Boolean);
  for (const s of list) {
    if (!(STATUSES as readonly string[]).includes(s)) {
      throw new UsageError(`--only-if takes ${STATUSES.join(",")}, got "${s}"`);
    }
  }
  return list as Status[];
}

const set = defineCommand({
  name: "set",
  summary: "Report an agent's status: sets the icon on its tmux window and notifies `wm wait`",
  description: [
    "Run from inside a worktree (an agent hook runs it there): the daemon finds the worktree by",
    "the current directory, else by the tmux pane ($TMUX_PANE) or --window. Inside a sandbox the",
    "same command is the sandbox's wm, which reports through the guest API. `clear` removes it.",
    "Outside any worktree or tmux window wm knows it records nothing and still exits 0, so an",
    "agent's hooks never fail because of it.",
  ].join("\n"),
  json: true,
  args: [
    {
      name: "status",
      description: "the new status",
      required: true,
      choices: [...STATUSES, "clear"],
    },
  ],
  options: {
    window: {
      type: "string",
      valueName: "ID",
      description: "the tmux window (@N) instead of the current directory",
    },
    "only-if": {
      type: "string",
      valueName: "LIST",
      description: "change only when the status now is one of LIST (e.g. waiting,done)",
    },
  },
  run: async (ctx) => {
    const tmux = tmuxClientFromEnv(ctx.env);
    const window = typeof ctx.options.window === "string" ? ctx.options.window : undefined;
    const onlyIf = parseOnlyIf(ctx.options["only-if"]);
    const res = await ctx
      .daemon((c) =>
        c.call("worktree.statusSet", {
          status: ctx.args[0] as Status | "clear",
          ...(window ? { window } : { worktree: ctx.cwd }),
          ...(tmux ? { tmux } : {}),
          ...(onlyIf ? { onlyIf } : {}),
        }),
      )
      .catch((err: unknown) => {
        if (!(err instanceof RpcError && err.is("NotFound"))) throw err;
        ctx.io.stderr.write(`wm: ${displaySafe(err.message)}; status not recorded\n`);
        return { worktree: null, handle: null, status: null, changed: false };
      });
    report(ctx, res, () => "");
    return ExitCode.Ok;
  },
});

export const statusCommand = defineCommand({
  name: "status",
  summary: "Show agent statuses (wm status set reports one)",
  description:
    "Lists the agent status of each worktree of this repository (every repository with --all); the worktree you are in is marked with *. A worktree whose sandbox runs under sandbox.network.policy: deny and has had connections refused or unlisted names looked up shows how many (net: 3 denied; `wm sandbox logs NAME --net` lists them).",
  json: true,
  options: { all: { type: "boolean", short: "a", description: "every repository's worktrees" } },
  subcommands: [set],
  run: async (ctx) => {
    const [res, sandboxes] = await ctx.daemon((c) =>
      Promise.all([
        c.call("worktree.status", { cwd: ctx.cwd, all: ctx.options.all === true }),
        // Only the text shows denials; `wm sandbox list --json` has them as data.
        ctx.json
          ? undefined
          : c.call("sandbox.list", {}).then(
              (r) => r.sandboxes,
              () => [],
            ),
      ]),
    );
    const denied = deniedByWorktree(sandboxes ?? []);
    report(ctx, res, (r) => {
      if (r.worktrees.length === 0) return "no worktrees";
      const net = (path: string) => {
        const n = denied.get(path);
        return n ? `net: ${deniedText(n)}` : "";
      };
      const withNet = r.worktrees.some((w) => net(w.path));
      return columns(
        ["", "NAME", "STATUS", "SINCE", "WINDOW", ...(withNet ? [""] : [])],
        r.worktrees.map((w) => [
          w.handle === r.current ? "*" : "",
          w.handle,
          w.status ?? "-",
          w.status ? ago(w.statusAt) : "-",
          w.window?.name ?? "-",
          ...(withNet ? [net(w.path)] : []),
        ]),
      );
    });
    return ExitCode.Ok;
  },
});
