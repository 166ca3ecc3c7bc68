import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { explain } from "../worktree/render.ts";
import { defineCommand } from "./spec.ts";

export const closeCommand = defineCommand({
  name: "close",
  summary: "Close a worktree's tmux window; the worktree and branch stay (wm open brings it back)",
  json: true,
  args: [{ name: "name", description: "worktree name, branch or path", required: true }],
  run: async (ctx) => {
    const res = await ctx
      .daemon((c) => c.call("worktree.close", { cwd: ctx.cwd, name: ctx.args[0] as string }))
      .catch(explain);
    report(ctx, res, (r) =>
      r.closed
        ? `closed the window of ${r.worktree.handle}`
        : `${r.worktree.handle} had no window open`,
    );
    return ExitCode.Ok;
  },
});
