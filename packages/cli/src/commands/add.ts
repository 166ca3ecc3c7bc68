import { readFile } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { explain, renderHooks } from "../worktree/render.ts";
import { tmuxClientFromEnv } from "../worktree/tmux-env.ts";
import { defineCommand } from "./spec.ts";

export const addCommand = defineCommand({
  name: "add",
  summary: "Create a worktree and branch for an agent and open its tmux window",
  description: [
    "Creates <repo>__worktrees/<name> beside the repository (worktree_dir, worktree_naming and",
    "worktree_prefix change where), on BRANCH: an existing branch is checked out, a new one starts",
    "from --base, base_branch or the main worktree's branch. Then files.copy / files.symlink are",
    "applied from the main worktree, post_create hooks run in the new worktree, and a tmux window",
    "(or session, mode: session) named <window_prefix><name> opens with the configured panes.",
    "Hooks and pane commands come from the global config and the main worktree's .workmux.yaml",
    "only. Inside tmux the window opens in your session; outside, in the session `wm` on the",
    "server WM_TMUX_SOCKET names (default server when unset).",
  ].join("\n"),
  json: true,
  args: [{ name: "branch", description: "branch to create or check out", required: true }],
  options: {
    base: { type: "string", valueName: "REF", description: "start a new branch from REF" },
    sandbox: { type: "boolean", description: "run the agent pane in a sandbox (wm sandbox run)" },
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
      description: "open the worktree's window if it exists already",
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
        `created ${r.worktree.path}`,
        `  branch ${r.worktree.branch}${r.branchCreated ? ` (new, from ${r.base})` : " (existing)"}`,
        ...r.files.copied.map((f) => `  copied ${f}`),
        ...r.files.symlinked.map((f) => `  symlinked ${f}`),
        ...r.files.skipped.map((s) => `  skipped ${s.path}: ${s.reason}`),
        ...renderHooks(r.hooks).map((l) => `  ${l}`),
        r.worktree.window
          ? `  window ${r.worktree.window.name} (${r.worktree.window.id}), ${r.panes.length} pane(s)${r.worktree.sandbox ? ", sandboxed" : ""}`
          : "  no window",
      ].join("\n"),
    );
    return ExitCode.Ok;
  },
});
