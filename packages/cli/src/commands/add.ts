import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Result } from "@wm/protocol";
import { showConfigWarnings } from "../config-warnings.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import {
  type AgentVars,
  agentsFrom,
  promptFromStdin,
  renderPrompt,
} from "../worktree/add-prompt.ts";
import { explain, renderHooks, renderRuns } from "../worktree/render.ts";
import { tmuxClientFromEnv } from "../worktree/tmux-env.ts";
import { type CommandContext, defineCommand } from "./spec.ts";

/** What was checked out: "new branch x from main", "checked out origin/x as x, tracking it", … */
function branchLine(r: Result<"worktree.add">): string {
  const { branch } = r.worktree;
  if (r.opened) return `existing worktree, branch ${branch}`;
  if (r.pr) return `pull request #${r.pr.number} from ${r.pr.remote} as new branch ${branch}`;
  if (r.tracking) return `checked out ${r.tracking} as ${branch}, tracking it`;
  return r.branchCreated ? `new branch ${branch} from ${r.base}` : `existing branch ${branch}`;
}

function render(r: Result<"worktree.add">): string {
  return [
    `${r.opened ? "opened" : "created"} ${r.worktree.path}`,
    `  ${branchLine(r)}`,
    ...(r.carried
      ? [
          `  carried over ${r.carried.tracked.length} changed and ${r.carried.untracked.length} untracked file(s) (they stay where they were too)`,
        ]
      : []),
    ...r.files.copied.map((f) => `  copied ${f}`),
    ...r.files.symlinked.map((f) => `  symlinked ${f}`),
    ...r.files.skipped.map((s) => `  skipped ${s.path}: ${s.reason}`),
    ...renderHooks(r.hooks).map((l) => `  ${l}`),
    ...(r.hooksSkipped > 0
      ? [`  post_create hooks skipped (--no-hooks): ${r.hooksSkipped} not run`]
      : []),
    ...(r.promptFile && r.promptFileOnly
      ? [`  prompt written to ${r.promptFile} (prompt_file_only: not passed to the agent)`]
      : []),
    r.worktree.window
      ? `  window ${r.worktree.window.name} (${r.worktree.window.id})${r.panes.length > 0 ? `, ${r.panes.length} pane(s)` : ""}`
      : "  no window",
    ...renderRuns(r.runs).map((l) => `  ${l}`),
  ].join("\n");
}

/**
 * `-A` with `-n` / `--foreach`: the daemon names the branch once from the unrendered prompt and
 * checks every `<name>-<index>` / `<name>-<value>` is new before anything is made.
 */
async function autoNames(
  ctx: CommandContext,
  prompt: string,
  agents: readonly AgentVars[],
): Promise<string[]> {
  const suffixes = agents.map((a) => Object.values(a.vars)[0] ?? String(a.index));
  const named = await ctx
    .daemon((c) => c.call("worktree.autoName", { cwd: ctx.cwd, prompt, suffixes }))
    .catch(explain);
  return named.branches;
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
    "A sandbox setting wm cannot honour (sandbox.lima.driver: limactl, an OCI runtime the",
    "engine lacks, network.policy: deny with a VM, …) or an unknown key under sandbox: stops it",
    "first too, naming the key and its file (exit 5). Config warnings are printed on stderr, once",
    "per change of the file.",
    "",
    'Without -p/-P, a prompt piped in is read (`echo "do x" | wm add b`; at most 200000 bytes;',
    "empty means none). -n N / --foreach VAR=a,b start one agent per number or value, in",
    "worktrees BRANCH-1, BRANCH-2, …, each prompt with {{ index }} and {{ VAR }} replaced (plain",
    "text, nothing evaluated). With prompt_file_only: true the prompt file is written but not",
    "passed to the agent.",
    "",
    "-A/--auto-name takes the branch name from the prompt instead of BRANCH: with",
    "auto_name.command set in the global config, that command (run with hook_shell, the prompt",
    "on stdin, at most 30 s) prints it on its first line; otherwise the prompt's words are",
    "joined by - (lowercase, a-z 0-9, at most 40 characters). Either way the name is slugged,",
    "and -2, -3, … is added when the branch exists. A failing command is an error, not a",
    'fallback. `wm add -A -p "Fix the login redirect bug"` makes fix-the-login-redirect-bug.',
    "With -n N or --foreach VAR=a,b the name is made once, before {{ … }} is replaced (the",
    "command gets the prompt as given; the prompt's own words leave the placeholders out), and",
    "each agent gets NAME-1, NAME-2, … (-n) or NAME-a, NAME-b (--foreach, each value slugged);",
    "when any of these branches or worktrees exists already, nothing is created.",
  ].join("\n"),
  json: true,
  args: [
    {
      name: "branch",
      description: "branch to create or check out (with --pr: default pr-N; left out with -A)",
    },
  ],
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
      short: "a",
      valueName: "NAME",
      description: "agent for this worktree instead of the configured one",
    },
    name: {
      type: "string",
      valueName: "NAME",
      description: "worktree and window name instead of the one derived from the branch",
    },
    "no-hooks": { type: "boolean", description: "do not run the post_create hooks" },
    count: {
      type: "string",
      short: "n",
      valueName: "N",
      description:
        "start N agents, worktrees <branch>-1..N; {{ index }} in the prompt is each one's number",
    },
    foreach: {
      type: "string",
      valueName: "VAR=a,b,c",
      description:
        "one agent per value, worktrees <branch>-1.. (with -A: <name>-<value>); {{ VAR }} in the prompt is its value",
    },
    "with-changes": {
      type: "boolean",
      description:
        "carry the uncommitted changes (and untracked files) of this worktree over; they stay here too",
    },
    pr: {
      type: "string",
      valueName: "N",
      description: "check out pull request N's head (fetched from origin) as BRANCH, default pr-N",
    },
    layout: {
      type: "string",
      short: "l",
      valueName: "NAME",
      description: "lay the window out with layouts.NAME instead of panes",
    },
    "auto-name": {
      type: "boolean",
      short: "A",
      description:
        "name the branch from the prompt: auto_name.command's output (global config), else the prompt slugged",
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
    const str = (key: string) =>
      typeof ctx.options[key] === "string" ? (ctx.options[key] as string) : undefined;
    let prompt = str("prompt");
    if (str("prompt-file") !== undefined) {
      const file = path.resolve(ctx.cwd, str("prompt-file") as string);
      prompt = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read the prompt file ${file}: ${err.code ?? err.message}`);
      });
    }
    const pr = str("pr");
    if (pr !== undefined && !/^[1-9]\d{0,8}$/.test(pr))
      throw new UsageError(`--pr takes a pull request number, not "${pr}"`);
    const autoName = ctx.options["auto-name"] === true;
    if (autoName && ctx.args[0] !== undefined)
      throw new UsageError(
        `-A/--auto-name names the branch from the prompt; leave out the branch "${ctx.args[0]}" or -A`,
      );
    if (autoName && pr !== undefined)
      throw new UsageError("-A/--auto-name and --pr exclude each other");
    const branch = (ctx.args[0] as string | undefined) ?? (pr ? `pr-${pr}` : undefined);
    if (!branch && !autoName)
      throw new UsageError(
        "missing argument <branch> (it may be left out only with --pr or -A/--auto-name)",
      );
    const agents = agentsFrom(str("count"), str("foreach"));
    if (agents) {
      for (const [flag, given] of [
        ["--name", str("name") !== undefined],
        ["--open-if-exists", ctx.options["open-if-exists"] === true],
        ["--pr", pr !== undefined],
      ] as const) {
        if (given)
          throw new UsageError(
            `${flag} names one worktree; it cannot be combined with -n/--count or --foreach, which make several`,
          );
      }
    }
    if (prompt === undefined) prompt = await promptFromStdin();
    if (autoName && (prompt === undefined || prompt.trim() === ""))
      throw new UsageError(
        "-A/--auto-name names the branch from the prompt; give one with -p, -P or on stdin",
      );
    const tmux = tmuxClientFromEnv(ctx.env);
    await showConfigWarnings(ctx, { startsAgent: true });
    const add = (one: {
      branch: string | undefined;
      prompt: string | undefined;
      background: boolean;
    }) =>
      ctx
        .daemon((c) =>
          c.call("worktree.add", {
            cwd: ctx.cwd,
            ...(one.branch !== undefined ? { branch: one.branch } : { autoName: true }),
            ...(str("base") !== undefined ? { base: str("base") } : {}),
            ...(sandbox !== undefined ? { sandbox } : {}),
            background: one.background,
            openIfExists: ctx.options["open-if-exists"] === true,
            ...(one.prompt ? { prompt: one.prompt } : {}),
            ...(str("agent") !== undefined ? { agent: str("agent") } : {}),
            ...(str("name") !== undefined ? { name: str("name") } : {}),
            noHooks: ctx.options["no-hooks"] === true,
            withChanges: ctx.options["with-changes"] === true,
            ...(pr !== undefined ? { pr: Number(pr) } : {}),
            ...(str("layout") !== undefined ? { layout: str("layout") } : {}),
            ...(tmux ? { tmux } : {}),
          }),
        )
        .catch(explain);
    const background = ctx.options.background === true;
    if (!agents) {
      report(ctx, await add({ branch, prompt, background }), render);
      return ExitCode.Ok;
    }
    // Every prompt is rendered first: a bad placeholder stops the command before anything is made.
    const prompts = agents.map((a) => (prompt === undefined ? undefined : renderPrompt(prompt, a)));
    const branches = autoName
      ? await autoNames(ctx, prompt as string, agents)
      : agents.map((a) => `${branch as string}-${a.index}`);
    const plans = agents.map((a, i) => ({
      branch: branches[i] as string,
      prompt: prompts[i],
      // The first window is switched to (unless -b); the others open behind it.
      background: background || a.index > 1,
    }));
    const made: Result<"worktree.add">[] = [];
    for (const plan of plans) {
      try {
        made.push(await add(plan));
      } catch (err) {
        if (made.length > 0 && !ctx.json)
          ctx.io.stderr.write(
            `${made.length} of ${plans.length} agents were started (${made.map((r) => r.worktree.handle).join(", ")}); the next one failed:\n`,
          );
        throw err;
      }
    }
    report(ctx, { agents: made }, (r) => r.agents.map(render).join("\n"));
    return ExitCode.Ok;
  },
});
