import { showConfigWarnings } from "../config-warnings.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { renderWorktrees } from "../worktree/render.ts";
import { defineCommand } from "./spec.ts";

export const listCommand = defineCommand({
  name: "list",
  aliases: ["ls"],
  summary: "List the repository's worktrees: branch, agent status, window, last activity",
  description: [
    "Shows the worktrees of the repository you are in (all of them outside a repository, or with",
    "--all): every linked worktree `git worktree list` shows, including ones made with plain",
    "`git worktree add` or by workmux, which `wm open/rm/merge` manage like the ones wm made. A",
    "worktree with a detached HEAD is not listed (give it a branch with `git switch -c`).",
    "Config warnings are printed on stderr, once per change of the file.",
  ].join("\n"),
  json: true,
  options: { all: { type: "boolean", short: "a", description: "every repository's worktrees" } },
  run: async (ctx) => {
    await showConfigWarnings(ctx);
    const res = await ctx.daemon((c) =>
      c.call("worktree.list", { cwd: ctx.cwd, all: ctx.options.all === true }),
    );
    report(ctx, res, (r) => renderWorktrees(r.worktrees));
    return ExitCode.Ok;
  },
});
