import type { Result, WorktreeSummary } from "@wm/protocol";
import { RpcError } from "@wm/protocol/errors";
import { showConfigWarnings } from "../config-warnings.ts";
import { CliError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { withNameHint } from "../worktree/current.ts";
import { explain, renderHooks } from "../worktree/render.ts";
import { ask } from "./merge.ts";
import { type CommandContext, defineCommand } from "./spec.ts";

type Removed = Result<"worktree.remove">;

function renderRemoved(r: Removed): string[] {
  return [
    ...renderHooks(r.hooks),
    `removed ${r.path}`,
    r.branchDeleted ? `deleted branch ${r.branch}` : `kept branch ${r.branch}`,
  ];
}

/** `--gone` / `--all`: removes each selected worktree on its own and reports each. */
async function removeMany(ctx: CommandContext, which: "gone" | "all"): Promise<number> {
  const force = ctx.options.force === true;
  const listed = await ctx
    .daemon((c) =>
      c.call("worktree.list", {
        cwd: ctx.cwd,
        all: false,
        ...(which === "gone" ? { gone: true } : {}),
      }),
    )
    .catch(explain);
  const targets: WorktreeSummary[] = listed.worktrees;
  if (targets.length === 0) {
    report(ctx, { removed: [], failed: [] }, () =>
      which === "gone"
        ? "no worktree has a branch whose upstream is gone"
        : "no worktrees to remove",
    );
    return ExitCode.Ok;
  }
  const names = targets.map((w) => `  ${w.handle} (${w.branch}) ${w.path}`).join("\n");
  if (which === "all" && !force) {
    if (!(process.stdin.isTTY && ctx.io.stderr.isTTY)) {
      throw new CliError(
        `wm rm --all would remove ${targets.length} worktree(s); nothing was removed`,
        ExitCode.Refused,
        "pass -f to remove them without asking (this also removes uncommitted and unmerged work)",
        names,
      );
    }
    ctx.io.stderr.write(
      `wm rm --all removes these worktrees, their windows and branches:\n${names}\n`,
    );
    if (!(await ask(`Remove ${targets.length} worktree(s)? [y/N] `, ctx.io.stderr)))
      throw new CliError("nothing was removed", ExitCode.Refused);
  }
  const removed: Removed[] = [];
  const failed: Array<{ handle: string; path: string; error: string; reason?: string }> = [];
  let refused = false;
  for (const w of targets) {
    try {
      removed.push(
        await ctx.daemon((c) =>
          c.call("worktree.remove", {
            cwd: ctx.cwd,
            name: w.path,
            force,
            keepBranch: ctx.options["keep-branch"] === true,
          }),
        ),
      );
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      if (err.is("Refused")) refused = true;
      const reason = (err.data as { reason?: unknown } | undefined)?.reason;
      failed.push({
        handle: w.handle,
        path: w.path,
        error: err.message,
        ...(typeof reason === "string" ? { reason } : {}),
      });
    }
  }
  report(ctx, { removed, failed }, (r) =>
    [
      ...r.removed.flatMap(renderRemoved),
      ...r.failed.map((f) => `not removed ${f.handle}: ${f.error}`),
    ].join("\n"),
  );
  if (failed.length === 0) return ExitCode.Ok;
  return refused ? ExitCode.Refused : ExitCode.Failure;
}

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
    "",
    "--gone removes the worktrees whose branch's upstream is gone (deleted on the remote, then",
    "`git fetch --prune`). --all removes every worktree of the repository after asking [y/N];",
    "without a terminal it refuses unless -f. Each worktree is checked and reported on its own:",
    "one with uncommitted or unmerged work is kept (unless -f) and the others are removed.",
  ].join("\n"),
  json: true,
  args: [
    { name: "name", description: "worktree name, branch or path (default: the one you are in)" },
  ],
  options: {
    force: {
      type: "boolean",
      short: "f",
      description: "remove even with uncommitted or unmerged work (with --all: without asking)",
    },
    "keep-branch": { type: "boolean", description: "keep the branch" },
    gone: {
      type: "boolean",
      description: "remove the worktrees whose branch's upstream is gone",
    },
    all: {
      type: "boolean",
      description: "remove every worktree of the repository (asks first unless -f)",
    },
  },
  run: async (ctx) => {
    const gone = ctx.options.gone === true;
    const all = ctx.options.all === true;
    if (gone && all) throw new UsageError("--gone and --all exclude each other");
    if ((gone || all) && ctx.args[0] !== undefined)
      throw new UsageError(`--${gone ? "gone" : "all"} takes no NAME`);
    await showConfigWarnings(ctx);
    if (gone || all) return removeMany(ctx, gone ? "gone" : "all");
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
    report(ctx, res, (r) => renderRemoved(r).join("\n"));
    return ExitCode.Ok;
  },
});
