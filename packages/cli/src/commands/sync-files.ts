import { showConfigWarnings } from "../config-warnings.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { withNameHint } from "../worktree/current.ts";
import { explain } from "../worktree/render.ts";
import { defineCommand } from "./spec.ts";

export const syncFilesCommand = defineCommand({
  name: "sync-files",
  summary: "Copy and symlink files.copy / files.symlink into existing worktrees again",
  description: [
    "Applies files.copy and files.symlink from the config to the worktree you are in, NAME, or",
    "with --all every worktree of the repository, as wm add does for a new one: a copied file",
    "replaces the worktree's own copy (edits made there are overwritten), nothing is written",
    "through a symbolic link in the worktree, and a source leading out of the repository is skipped.",
  ].join("\n"),
  json: true,
  args: [
    { name: "name", description: "worktree name, branch or path (default: the one you are in)" },
  ],
  options: {
    all: { type: "boolean", description: "every worktree of the repository" },
  },
  run: async (ctx) => {
    const all = ctx.options.all === true;
    if (all && ctx.args[0] !== undefined) throw new UsageError("--all takes no NAME");
    await showConfigWarnings(ctx);
    const res = await ctx
      .daemon((c) =>
        c.call("worktree.syncFiles", {
          cwd: ctx.cwd,
          all,
          ...(ctx.args[0] !== undefined ? { name: ctx.args[0] } : {}),
        }),
      )
      .catch((err) => explain(withNameHint(err, "sync-files")));
    report(ctx, res, (r) =>
      r.worktrees.length === 0
        ? "no worktrees"
        : r.worktrees
            .flatMap((w) => [
              `${w.handle}: copied ${w.files.copied.length}, symlinked ${w.files.symlinked.length}`,
              ...w.files.skipped.map((s) => `  skipped ${s.path}: ${s.reason}`),
            ])
            .join("\n"),
    );
    return ExitCode.Ok;
  },
});
