import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { explain } from "../worktree/render.ts";
import { tmuxClientFromEnv } from "../worktree/tmux-env.ts";
import { defineCommand } from "./spec.ts";

export const openCommand = defineCommand({
  name: "open",
  summary: "Switch to a worktree's tmux window, opening it again if it was closed",
  json: true,
  args: [{ name: "name", description: "worktree name, branch or path", required: true }],
  run: async (ctx) => {
    const tmux = tmuxClientFromEnv(ctx.env);
    const res = await ctx
      .daemon((c) =>
        c.call("worktree.open", {
          cwd: ctx.cwd,
          name: ctx.args[0] as string,
          ...(tmux ? { tmux } : {}),
        }),
      )
      .catch(explain);
    report(
      ctx,
      res,
      (r) =>
        `${r.created ? "opened a new" : "selected the"} window ${r.worktree.window?.name ?? ""} for ${r.worktree.handle}`,
    );
    return ExitCode.Ok;
  },
});
