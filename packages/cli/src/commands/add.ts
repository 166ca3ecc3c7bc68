import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Result } from "@wm/protocol";
import { showConfigWarnings } from "../config-warnings.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { explain, renderHooks, renderRuns } from "../worktree/render.ts";
import { tmuxClientFromEnv } from "../worktree/tmux-env.ts";
import { defineCommand } from "./spec.ts";

/** What was checked out: "new branch x from main", "checked out origin/x as x, tracking it", … */
function branchLine(r: Result<"worktree.add">): string {
  const { branch } = r.worktree;
  if (r.opened) return `existing worktree, branch ${branch}`;
  if (r.tracking) return `checked out ${r.tracking} as ${branch}, tracking it`;
  return r.branchCreated ? `new branch ${branch} from ${r.base}` : `existing branch ${branch}`;
}

export const addCommand = defineCommand({
  name: "add",
  summary: "Create a worktree and branch for an agent and open its tmux window",
  description: [
    "Creates <repo>__worktrees/<name> beside the repository (worktree_dir, worktree_naming and",
    "worktree_prefix change where), on BRANCH: an existing branch is checked out; a branch only a",
    "remote has (origin/BRANCH, already fetched) becomes a local BRANCH tracking it, and so does",
    "REMOTE/BRANCH (named after BRANCH); anything else is a new branch from --base, base_branch or",
    "the main worktree's branch. Then files.copy / files.symlink are applied from the main",
    "worktree, post_create hooks run in the new worktree, and a tmux window (or session, mode:",
    "session) named <window_prefix><name> opens with the configured panes.",
    "Hooks and pane commands come from the global config and the main worktree's .workmux.yaml",
    "only. Inside tmux the window opens in your session; outside, in the session `wm` on the",
    "server WM_TMUX_SOCKET names (default server when unset).",
    "",
    "The project file is the one `wm config` shows where you run it: in a monorepo, run from",
    "pkg/api with a pkg/api/.workmux.yaml, that file is used and the window (and post_create)",
    "start in pkg/api of the new worktree. With --open-if-exists an existing worktree (made by",
    "wm or not) has its window selected, or opened again once if it was closed (`opened …`).",
    "",
    "It prints what each pane runs and where (`pane 1: claude — sandboxed (docker)`). Checked",
    "before anything is created: tmux is on the daemon's PATH; with --sandbox or sandbox.enabled,",
    "at least one pane is sandboxed (sandbox.target: agent sandboxes only panes that run the",
    "agent) and its sandbox image exists (the error gives the `wm sandbox build` command).",
    "A sandbox setting wm cannot honour (a backend other than container, an OCI runtime the",
    "engine lacks, network.policy: deny, …) or an unknown key under sandbox: stops it first too,",
    "naming the key and its file (exit 5). Config warnings are printed on stderr, once per change",
    "of the file.",
  ].join("\n"),
  json: true,
  args: [{ name: "branch", description: "branch to create or check out", required: true }],
  options: {
    base: { type: "string", valueName: "REF", description: "start a new branch from REF" },
    sandbox: {
      type: "boolean",
      description:
        "run the agent pane in a sandbox (wm sandbox run); fails when no pane would be sandboxed",
    },
    "no-sandbox": { type: "boolean", description: "run the agent pane on the host" },
    background: {
      type: "boolean",
      short: "b",
      description: "open the window without switching to it",
    },
    prompt: { type: "string", short: "p", valueName: "TEXT", description: "prompt for the agent" },
    "prompt-file": {
      type: "string",
      short: "P",
      valueName: "FILE",
      description: "read the agent's prompt from FILE",
    },
    agent: {
      type: "string",
      valueName: "NAME",
      description: "agent for this worktree instead of the configured one",
    },
    "open-if-exists": {
      type: "boolean",
      description:
        "when the worktree exists (made by wm or not), select its window, or open it again if closed",
    },
  },
  run: async (ctx) => {
    if (ctx.options.sandbox && ctx.options["no-sandbox"]) {
      throw new UsageError("--sandbox and --no-sandbox exclude each other");
    }
    const sandbox = ctx.options.sandbox ? true : ctx.options["no-sandbox"] ? false : undefined;
    if (typeof ctx.options.prompt === "string" && typeof ctx.options["prompt-file"] === "string") {
      throw new UsageError("-p/--prompt and -P/--prompt-file exclude each other");
    }
    let prompt = typeof ctx.options.prompt === "string" ? ctx.options.prompt : undefined;
    if (typeof ctx.options["prompt-file"] === "string") {
      const file = path.resolve(ctx.cwd, ctx.options["prompt-file"]);
      prompt = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read the prompt file ${file}: ${err.code ?? err.message}`);
      });
    }
    const tmux = tmuxClientFromEnv(ctx.env);
    await showConfigWarnings(ctx, { startsAgent: true });
    const res = await ctx
      .daemon((c) =>
        c.call("worktree.add", {
          cwd: ctx.cwd,
          branch: ctx.args[0] as string,
          ...(typeof ctx.options.base === "string" ? { base: ctx.options.base } : {}),
          ...(sandbox !== undefined ? { sandbox } : {}),
          background: ctx.options.background === true,
          openIfExists: ctx.options["open-if-exists"] === true,
          ...(prompt ? { prompt } : {}),
          ...(typeof ctx.options.agent === "string" ? { agent: ctx.options.agent } : {}),
          ...(tmux ? { tmux } : {}),
        }),
      )
      .catch(explain);
    report(ctx, res, (r) =>
      [
        `${r.opened ? "opened" : "created"} ${r.worktree.path}`,
        `  ${branchLine(r)}`,
        ...r.files.copied.map((f) => `  copied ${f}`),
        ...r.files.symlinked.map((f) => `  symlinked ${f}`),
        ...r.files.skipped.map((s) => `  skipped ${s.path}: ${s.reason}`),
        ...renderHooks(r.hooks).map((l) => `  ${l}`),
        r.worktree.window
          ? `  window ${r.worktree.window.name} (${r.worktree.window.id})${r.panes.length > 0 ? `, ${r.panes.length} pane(s)` : ""}`
          : "  no window",
        ...renderRuns(r.runs).map((l) => `  ${l}`),
      ].join("\n"),
    );
    return ExitCode.Ok;
  },
});
