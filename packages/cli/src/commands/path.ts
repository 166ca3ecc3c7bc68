import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { explain } from "../worktree/render.ts";
import { defineCommand } from "./spec.ts";

export const pathCommand = defineCommand({
  name: "path",
  summary: 'Print a worktree\'s path (cd "$(wm path NAME)")',
  description:
    "Exits 1 with an error naming NAME when no worktree of the repository you are in is called that.",
  json: true,
  args: [{ name: "name", description: "worktree name, branch or path", required: true }],
  run: async (ctx) => {
    const res = await ctx
      .daemon((c) => c.call("worktree.find", { cwd: ctx.cwd, name: ctx.args[0] as string }))
      .catch(explain);
    report(ctx, res, (r) => r.worktree.path);
    return ExitCode.Ok;
  },
});
