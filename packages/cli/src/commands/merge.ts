import { createInterface } from "node:readline/promises";
import type { Params } from "@wm/protocol";
import { RpcError } from "@wm/protocol/errors";
import { displaySafe } from "@wm/protocol/text";
import { showConfigWarnings } from "../config-warnings.ts";
import { CliError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { withNameHint } from "../worktree/current.ts";
import { explain, renderHooks } from "../worktree/render.ts";
import { defineCommand } from "./spec.ts";

export const CONFIRM_QUESTION = "Apply these changes to what wm runs on this host? [y/N] ";

/** What the daemon sends with ConfirmationRequired: the change, its diff, and its digest. */
interface Confirmation {
  diff?: string;
  digest?: string;
}

/** The change as the user should see it before agreeing: the summary, then the diff. */
export function renderConfirmation(err: RpcError): string {
  const data = (err.data ?? {}) as Confirmation;
  const diff = (data.diff ?? "").trimEnd();
  return displaySafe(`${err.message}${diff ? `\n\n${diff}` : ""}\n`, { multiline: true });
}

/** Asks on the terminal; anything but y/yes is no. */
export async function ask(question: string, output: NodeJS.WritableStream): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return /^(y|yes)$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** With --ignore-uncommitted: what was left out of the merge, and where it went. */
function notMerged(changes: readonly string[], removed: boolean): string[] {
  if (changes.length === 0) return [];
  const n = `${changes.length} uncommitted change${changes.length === 1 ? "" : "s"}`;
  return [`not merged: ${n}, ${removed ? "removed with the worktree" : "left in the worktree"}`];
}

export const mergeCommand = defineCommand({
  name: "merge",
  summary: "Merge a worktree's branch into the main branch, then remove the worktree",
  description: [
    "Without NAME, merges the worktree you are in. Refuses uncommitted changes in the worktree",
    "(files wm made there itself, like files.symlink links, do not count) unless",
    "--ignore-uncommitted, which merges only the commits: the changes are not merged, and go with",
    "the worktree unless --keep. Runs pre_merge hooks in the worktree (WM_BRANCH_NAME,",
    "WM_TARGET_BRANCH; a failing hook aborts; --no-verify skips them), then merges where the",
    "target is checked out (the main worktree or a worktree wm made; it must have no uncommitted",
    "changes), or, when no worktree has it checked out, in a temporary detached worktree, moving",
    "the branch without touching any checkout. The",
    "merge runs no repository hooks, filters, fsmonitor or other configured programs (see",
    "docs/workflow.md). Commits use the repository's user.name/email, else your ~/.gitconfig's,",
    'else "wm". Afterwards the window closes and the worktree and branch are removed, unless',
    "--keep (or merge_keep: true).",
    "",
    "A merge that changes what wm runs on this host (hooks, pane commands and other host-run",
    "keys of a .workmux.yaml, or a CLAUDE.md that picks the default panes) shows the change",
    "and asks first; --yes applies it without asking. Without a terminal to ask on, such a merge",
    "stops and changes nothing. An agent's own `wm merge` inside a sandbox may not change these",
    "files at all.",
  ].join("\n"),
  json: true,
  args: [
    { name: "name", description: "worktree name, branch or path (default: the one you are in)" },
  ],
  options: {
    into: {
      type: "string",
      valueName: "BRANCH",
      description:
        "merge into BRANCH (default: main_branch or detected); it need not be checked out",
    },
    rebase: { type: "boolean", description: "replay the commits on the target (linear history)" },
    squash: { type: "boolean", description: "squash the branch into one commit" },
    keep: { type: "boolean", description: "keep the worktree, window and branch" },
    "ignore-uncommitted": {
      type: "boolean",
      description: "merge the commits although the worktree has uncommitted changes (not merged)",
    },
    "no-verify": {
      type: "boolean",
      short: "n",
      description: "skip the pre_merge hooks (git's own hooks never run in a wm merge)",
    },
    yes: {
      type: "boolean",
      short: "y",
      description:
        "apply changes to what wm runs on this host (.workmux.yaml hooks…) without asking",
    },
  },
  run: async (ctx) => {
    if (ctx.options.rebase && ctx.options.squash)
      throw new UsageError("--rebase and --squash exclude each other");
    const strategy = ctx.options.rebase ? "rebase" : ctx.options.squash ? "squash" : undefined;
    await showConfigWarnings(ctx);
    const params: Params<"worktree.merge"> = {
      cwd: ctx.cwd,
      ...(ctx.args[0] !== undefined ? { name: ctx.args[0] } : {}),
      ...(typeof ctx.options.into === "string" ? { into: ctx.options.into } : {}),
      ...(strategy ? { strategy } : {}),
      ...(ctx.options.keep ? { keep: true } : {}),
      ...(ctx.options["ignore-uncommitted"] ? { ignoreUncommitted: true } : {}),
      ...(ctx.options["no-verify"] ? { noVerify: true } : {}),
      ...(ctx.options.yes ? { yes: true } : {}),
    };
    const interactive = Boolean(process.stdin.isTTY && ctx.io.stderr.isTTY);
    const merge = async (p: Params<"worktree.merge">) => {
      try {
        return await ctx.daemon((c) => c.call("worktree.merge", p));
      } catch (err) {
        if (err instanceof RpcError && err.is("ConfirmationRequired")) return err;
        return explain(withNameHint(err, "merge"));
      }
    };
    let res = await merge(params);
    while (res instanceof RpcError) {
      if (!interactive) {
        throw new CliError(
          "this merge changes what wm runs on this host; nothing was merged",
          ExitCode.Refused,
          "review the change above, then rerun with --yes to apply it",
          renderConfirmation(res),
        );
      }
      ctx.io.stderr.write(renderConfirmation(res));
      if (!(await ask(CONFIRM_QUESTION, ctx.io.stderr)))
        throw new CliError("not merged; nothing was changed", ExitCode.Refused);
      const digest = (res.data as Confirmation | undefined)?.digest;
      res = await merge({ ...params, yes: true, ...(digest ? { confirmed: digest } : {}) });
    }
    report(ctx, res, (r) =>
      [
        ...renderHooks(r.hooks),
        `merged ${r.branch} into ${r.target} (${r.strategy}), now at ${r.commit.slice(0, 12)}`,
        ...notMerged(r.uncommitted, r.removed),
        r.removed ? `removed the worktree and branch ${r.branch}` : "kept the worktree and branch",
      ].join("\n"),
    );
    return ExitCode.Ok;
  },
});
