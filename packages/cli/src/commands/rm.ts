import { showConfigWarnings } from "../config-warnings.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { withNameHint } from "../worktree/current.ts";
import { explain, renderHooks } from "../worktree/render.ts";
import { defineCommand } from "./spec.ts";

export const rmCommand = defineCommand({
  name: "rm",
  aliases: ["remove"],
  summary: "Remove a worktree, its window and its branch",
  description: [
    "Without NAME, removes the worktree you are in. Refuses when the worktree has uncommitted",
    "changes (files wm made there itself, like files.symlink links, do not count) or its branch",
    "has commits not in the main branch, unless -f. Runs pre_remove hooks in the worktree (a",
    "failing hook aborts), closes the window, removes the worktree and deletes the branch (kept",
    "with --keep-branch).",
  ].join("\n"),
  json: true,
  args: [
    { name: "name", description: "worktree name, branch or path (default: the one you are in)" },
  ],
  options: {
    force: {
      type: "boolean",
      short: "f",
      description: "remove even with uncommitted or unmerged work",
    },
    "keep-branch": { type: "boolean", description: "keep the branch" },
  },
  run: async (ctx) => {
    await showConfigWarnings(ctx);
    const res = await ctx
      .daemon((c) =>
        c.call("worktree.remove", {
          cwd: ctx.cwd,
          ...(ctx.args[0] !== undefined ? { name: ctx.args[0] } : {}),
          force: ctx.options.force === true,
          keepBranch: ctx.options["keep-branch"] === true,
        }),
      )
      .catch((err) => explain(withNameHint(err, "rm")));
    report(ctx, res, (r) =>
      [
        ...renderHooks(r.hooks),
        `removed ${r.path}`,
        r.branchDeleted ? `deleted branch ${r.branch}` : `kept branch ${r.branch}`,
      ].join("\n"),
    );
    return ExitCode.Ok;
  },
});
