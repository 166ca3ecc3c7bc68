import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { explain, renderHooks } from "../worktree/render.ts";
import { defineCommand } from "./spec.ts";

export const mergeCommand = defineCommand({
  name: "merge",
  summary: "Merge a worktree's branch into the main branch, then remove the worktree",
  description: [
    "Runs pre_merge hooks in the worktree (WM_BRANCH_NAME, WM_TARGET_BRANCH; a failing hook",
    "aborts), then merges in the main worktree, which must have the target branch checked out",
    "and no uncommitted changes. The merge runs no repository hooks, filters, fsmonitor or other",
    "configured programs (see docs/workflow.md). Commits use the repository's user.name/email,",
    'else your ~/.gitconfig\'s, else "wm". Afterwards the window closes and the worktree and',
    "branch are removed, unless --keep (or merge_keep: true).",
  ].join("\n"),
  json: true,
  args: [{ name: "name", description: "worktree name, branch or path", required: true }],
  options: {
    into: {
      type: "string",
      valueName: "BRANCH",
      description: "merge into BRANCH (default: main_branch or detected)",
    },
    rebase: { type: "boolean", description: "replay the commits on the target (linear history)" },
    squash: { type: "boolean", description: "squash the branch into one commit" },
    keep: { type: "boolean", description: "keep the worktree, window and branch" },
  },
  run: async (ctx) => {
    if (ctx.options.rebase && ctx.options.squash)
      throw new UsageError("--rebase and --squash exclude each other");
    const strategy = ctx.options.rebase ? "rebase" : ctx.options.squash ? "squash" : undefined;
    const res = await ctx
      .daemon((c) =>
        c.call("worktree.merge", {
          cwd: ctx.cwd,
          name: ctx.args[0] as string,
          ...(typeof ctx.options.into === "string" ? { into: ctx.options.into } : {}),
          ...(strategy ? { strategy } : {}),
          ...(ctx.options.keep ? { keep: true } : {}),
        }),
      )
      .catch(explain);
    report(ctx, res, (r) =>
      [
        ...renderHooks(r.hooks),
        `merged ${r.branch} into ${r.target} (${r.strategy}), now at ${r.commit.slice(0, 12)}`,
        r.removed ? `removed the worktree and branch ${r.branch}` : "kept the worktree and branch",
      ].join("\n"),
    );
    return ExitCode.Ok;
  },
});
