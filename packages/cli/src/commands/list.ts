import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { renderWorktrees } from "../worktree/render.ts";
import { defineCommand } from "./spec.ts";

export const listCommand = defineCommand({
  name: "list",
  summary: "List the worktrees wm manages: branch, agent status, window, last activity",
  description:
    "Shows the worktrees of the repository you are in (all of them outside a repository, or with --all).",
  json: true,
  options: { all: { type: "boolean", short: "a", description: "every repository's worktrees" } },
  run: async (ctx) => {
    const res = await ctx.daemon((c) =>
      c.call("worktree.list", { cwd: ctx.cwd, all: ctx.options.all === true }),
    );
    report(ctx, res, (r) => renderWorktrees(r.worktrees));
    return ExitCode.Ok;
  },
});
