import { z } from "zod";
import { defineMethod } from "../method.ts";
import { unsafeTextProblem } from "../text.ts";
import { agentStatus } from "./guest.ts";

const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith("/"), "must be an absolute path");

const name = z.string().min(1).max(255);

/**
 * Which tmux server (and session, pane) the calling `wm` runs in: from its `$TMUX` and
 * `$TMUX_PANE`, or from `WM_TMUX_SOCKET` outside tmux. Absent: the default server.
 */
export const tmuxClient = z
  .strictObject({
    /** `tmux -S`: the socket path (first field of `$TMUX`). */
    socketPath: absolutePath.optional(),
    /** `tmux -L`: a socket name in tmux's socket directory. */
    socketName: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a tmux socket name: letters, digits, . _ -")
      .optional(),
    /** Session id, `$N` (last field of `$TMUX`). */
    session: z
      .string()
      .regex(/^\$\d+$/, "a tmux session id like $3")
      .optional(),
    /** Pane id, `%N` (`$TMUX_PANE`). */
    pane: z
      .string()
      .regex(/^%\d+$/, "a tmux pane id like %7")
      .optional(),
  })
  .refine((t) => !(t.socketPath && t.socketName), "give socketPath or socketName, not both");
export type TmuxClient = z.infer<typeof tmuxClient>;

export const worktreeWindow = z.object({
  /** Window id (`@N`) on `server`. */
  id: z.string(),
  name: z.string(),
  session: z.string(),
  /** The tmux socket path. */
  server: z.string(),
});

export const worktreeSummary = z.object({
  handle: z.string(),
  branch: z.string(),
  path: z.string(),
  /** The main worktree of the repository. */
  repo: z.string(),
  window: worktreeWindow.nullable(),
  status: agentStatus.nullable(),
  statusAt: z.string().nullable(),
  lastActivity: z.string(),
  createdAt: z.string(),
  sandbox: z.boolean(),
  /** The worktree directory is still there. */
  exists: z.boolean(),
  /**
   * Committed changes of the branch since its merge base with `base` (the main branch), as
   * `git diff --shortstat` counts them; cached by the daemon, refreshed on status and worktree
   * events. Null when it cannot be computed (no such branch, unrelated histories).
   */
  diff: z
    .object({
      base: z.string(),
      files: z.number().int().nonnegative(),
      added: z.number().int().nonnegative(),
      removed: z.number().int().nonnegative(),
    })
    .nullable()
    .optional(),
});
export type WorktreeSummary = z.infer<typeof worktreeSummary>;

export const hookRun = z.object({
  hook: z.enum(["post_create", "pre_merge", "pre_remove"]),
  command: z.string(),
  code: z.number().int(),
  /** The last part of its combined output. */
  output: z.string(),
});
export type HookRun = z.infer<typeof hookRun>;

/** One pane of a worktree's window(s): what runs in it and where. */
export const paneRun = z.object({
  /** tmux pane id (`%N`). */
  pane: z.string(),
  /** The pane's command as configured, agent placeholders expanded; null = a shell. */
  command: z.string().nullable(),
  /** In a sandbox, or on the host. */
  where: z.enum(["sandbox", "host"]),
  /** Where a sandboxed pane runs (`docker`, `podman`, `vm`); null on the host. */
  backend: z.string().nullable(),
});
export type PaneRun = z.infer<typeof paneRun>;

const scope = { cwd: absolutePath };

export const worktreeAdd = defineMethod({
  summary:
    "Create a worktree and branch beside the repository, copy/symlink files, run post_create and open its tmux window.",
  surfaces: ["host"],
  params: z.strictObject({
    ...scope,
    /** Required unless `autoName` is set. */
    branch: name.optional(),
    /**
     * Name the branch from `prompt` (`wm add -A`): `auto_name.command`'s output (global config
     * only) or the prompt itself, slugged; `-2`, `-3`, … appended when the name is taken.
     */
    autoName: z.boolean().optional(),
    base: name.optional(),
    /** Overrides `sandbox.enabled` for this worktree's panes. */
    sandbox: z.boolean().optional(),
    /** Prompt handed to the agent (written to `wm-prompt.md` in the worktree's git admin dir). */
    prompt: z.string().min(1).max(200_000).optional(),
    /** Agent for this worktree's `<agent>` panes instead of the configured one. */
    agent: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "an agent name (letters, digits, . _ -)")
      .optional(),
    /**
     * The worktree (directory and window) name instead of the one derived from the branch
     * (`worktree_naming`, `worktree_prefix`): no "/", not . or .., at most 200 bytes.
     */
    name: name.optional(),
    /** Skip the `post_create` hooks (files are still copied/linked). */
    noHooks: z.boolean().default(false),
    /**
     * Carry the uncommitted changes (tracked modifications, untracked files that are not
     * ignored) of the worktree `cwd` lies in into the new worktree; the source keeps them.
     */
    withChanges: z.boolean().default(false),
    /** Fetch pull request N's head from the remote (`pull/N/head`) into `branch` and check it out. */
    pr: z.int().min(1).max(999_999_999).optional(),
    /** The `layouts.<name>` entry to lay the window out with instead of `panes`. */
    layout: name.optional(),
    /**
     * When the worktree exists already (made by wm or not), focus its window, or open it again
     * when it was closed, instead of failing.
     */
    openIfExists: z.boolean().default(false),
    /** Create the window without switching to it. */
    background: z.boolean().default(false),
    tmux: tmuxClient.optional(),
  }),
  result: z.object({
    worktree: worktreeSummary,
    /**
     * The worktree existed already (`openIfExists`): its window was focused, or opened again
     * when it had been closed; nothing else was done.
     */
    opened: z.boolean(),
    branchCreated: z.boolean(),
    base: z.string().nullable(),
    /** The remote-tracking branch (`origin/x`) the new local branch was made from and tracks. */
    tracking: z.string().nullable(),
    files: z.object({
      copied: z.array(z.string()),
      symlinked: z.array(z.string()),
      skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
    }),
    hooks: z.array(hookRun),
    /** `noHooks`: the number of `post_create` hooks that were not run. */
    hooksSkipped: z.number().int().nonnegative(),
    /** `withChanges`: the changed tracked files and untracked files carried over. */
    carried: z.object({ tracked: z.array(z.string()), untracked: z.array(z.string()) }).nullable(),
    /** `pr`: the remote the pull request was fetched from, and its number. */
    pr: z.object({ remote: z.string(), number: z.number().int() }).nullable(),
    /** The prompt file written (null without a prompt); with `prompt_file_only` the agent is not handed it. */
    promptFile: z.string().nullable(),
    /** `prompt_file_only`: the prompt file was written and not handed to the agent. */
    promptFileOnly: z.boolean(),
    panes: z.array(z.string()),
    /** Each pane in `panes` order: what it runs, sandboxed or on the host. */
    runs: z.array(paneRun),
  }),
});

export const worktreeAutoName = defineMethod({
  summary:
    "Branch names for several agents from one prompt (`wm add -A -n N` / `--foreach`): the name made once from the prompt, each suffix appended; nothing is created.",
  surfaces: ["host"],
  params: z.strictObject({
    ...scope,
    /** The prompt as given (placeholders not replaced); `auto_name.command` or the slug names it. */
    prompt: z.string().min(1).max(200_000),
    /** One per agent: its number (`-n`) or its value (`--foreach`); each is slugged. */
    suffixes: z.array(z.string().min(1).max(255)).min(1).max(20),
  }),
  result: z.object({
    /** The name made from the prompt. */
    base: z.string(),
    /** `<base>-<suffix>` for each suffix, in order; none of them exists yet. */
    branches: z.array(z.string()),
  }),
});

export const worktreeList = defineMethod({
  summary:
    "Worktrees of the repository (every linked worktree git lists, made by wm or not): branch, window, agent status and last activity.",
  surfaces: ["host"],
  params: z.strictObject({
    cwd: absolutePath.optional(),
    all: z.boolean().default(false),
    /**
     * Only the worktrees of `cwd`'s repository whose branch's upstream is gone (`git
     * for-each-ref` shows `[gone]`: deleted on the remote, then fetched with --prune).
     */
    gone: z.boolean().default(false),
  }),
  result: z.object({ repo: z.string().nullable(), worktrees: z.array(worktreeSummary) }),
});

export const worktreeOpen = defineMethod({
  summary: "Select a worktree's tmux window, creating it again (with its panes) when it is gone.",
  surfaces: ["host"],
  params: z.strictObject({
    ...scope,
    name,
    /**
     * Run the agent pane in a sandbox (true) or on the host (false) from now on; absent: as the
     * worktree was. Refused while its window is open the other way (close it first).
     */
    sandbox: z.boolean().optional(),
    tmux: tmuxClient.optional(),
  }),
  result: z.object({
    worktree: worktreeSummary,
    created: z.boolean(),
    /** Each pane of a window opened now (empty when an open window was selected). */
    runs: z.array(paneRun),
  }),
});

export const worktreeClose = defineMethod({
  summary: "Kill a worktree's tmux window (or session); the worktree and branch stay.",
  surfaces: ["host"],
  params: z.strictObject({ ...scope, name }),
  result: z.object({ worktree: worktreeSummary, closed: z.boolean() }),
});

export const worktreeRemove = defineMethod({
  summary:
    "Remove a worktree: refuses uncommitted or unmerged work unless forced, runs pre_remove, closes its window, deletes its branch.",
  surfaces: ["host"],
  params: z.strictObject({
    ...scope,
    /** Absent: the worktree `cwd` lies in (an error in the main worktree or outside one). */
    name: name.optional(),
    force: z.boolean().default(false),
    keepBranch: z.boolean().default(false),
  }),
  result: z.object({
    handle: z.string(),
    path: z.string(),
    branch: z.string(),
    branchDeleted: z.boolean(),
    hooks: z.array(hookRun),
  }),
});

export const mergeStrategy = z.enum(["merge", "rebase", "squash"]);

export const worktreeMerge = defineMethod({
  summary:
    "Merge a worktree's branch in the main worktree (no repository hooks run), then close its window and remove it.",
  surfaces: ["host"],
  params: z.strictObject({
    ...scope,
    /** Absent: the worktree `cwd` lies in (an error in the main worktree or outside one). */
    name: name.optional(),
    into: name.optional(),
    strategy: mergeStrategy.optional(),
    keep: z.boolean().optional(),
    /**
     * Merge the branch's commits although the worktree has uncommitted changes. They are not
     * merged: they stay in the worktree with `keep`, else they are removed with it.
     */
    ignoreUncommitted: z.boolean().optional(),
    /** Skip the `pre_merge` hooks (git's own hooks never run in a wm merge). */
    noVerify: z.boolean().optional(),
    /**
     * Apply a merge that changes what wm runs on the host (host-run keys of a `.workmux.yaml`,
     * or the default panes). Without it such a merge fails with ConfirmationRequired, whose
     * `data.changes` and `data.diff` show the change.
     */
    yes: z.boolean().optional(),
    /**
     * With `yes`: the `data.digest` of the ConfirmationRequired error the user saw. The merge
     * then proceeds only while the change is still that one; otherwise it fails again with the
     * new change. Without it, `yes` accepts any change.
     */
    confirmed: z
      .string()
      .regex(/^[0-9a-f]{64}$/, "a digest from ConfirmationRequired's data.digest")
      .optional(),
  }),
  result: z.object({
    handle: z.string(),
    branch: z.string(),
    target: z.string(),
    strategy: mergeStrategy,
    /** The target branch's commit after the merge. */
    commit: z.string(),
    removed: z.boolean(),
    /**
     * With `ignoreUncommitted`: the worktree's uncommitted changes that were not merged
     * (`git status --porcelain` lines); empty otherwise.
     */
    uncommitted: z.array(z.string()),
    hooks: z.array(hookRun),
  }),
});

const statusValue = z.union([agentStatus, z.literal("clear")]);

export const worktreeStatusSet = defineMethod({
  summary:
    "Set (or clear) the agent status of an unsandboxed worktree, found by a path inside it or by its tmux window.",
  surfaces: ["host"],
  params: z
    .strictObject({
      worktree: absolutePath.optional(),
      window: z
        .string()
        .regex(/^@\d+$/, "a tmux window id like @4")
        .optional(),
      tmux: tmuxClient.optional(),
      status: statusValue,
      /** Change only when the current status is one of these (a focus hook clears done/waiting). */
      onlyIf: z.array(agentStatus).max(3).optional(),
    })
    .refine((p) => p.worktree || p.window || p.tmux?.pane, "give worktree, window or tmux.pane"),
  result: z.object({
    worktree: z.string().nullable(),
    handle: z.string().nullable(),
    status: agentStatus.nullable(),
    changed: z.boolean(),
  }),
});

export const worktreeStatus = defineMethod({
  summary:
    "Agent status of every worktree of the repository at cwd (or all), and which one cwd is in.",
  surfaces: ["host"],
  params: z.strictObject({ cwd: absolutePath.optional(), all: z.boolean().default(false) }),
  result: z.object({ current: z.string().nullable(), worktrees: z.array(worktreeSummary) }),
});

export const worktreeFind = defineMethod({
  summary: "One worktree by name, branch or path (`wm path`): where it is, its window and status.",
  surfaces: ["host"],
  params: z.strictObject({ ...scope, name }),
  result: z.object({ worktree: worktreeSummary }),
});

/** Text typed into an agent: no character a terminal or the agent's line editor would interpret. */
const typedText = z
  .string()
  .min(1)
  .max(100_000)
  .superRefine((text, ctx) => {
    const problem = unsafeTextProblem(text);
    if (problem) ctx.addIssue({ code: "custom", message: `text cannot be typed: ${problem}` });
  });

/** The keys `worktree.send` can press by name (tmux key names; never taken from user text). */
export const SEND_KEYS = [
  "Enter",
  "BSpace",
  "Tab",
  "Up",
  "Down",
  "Left",
  "Right",
  "C-c",
  "C-d",
] as const;
export type SendKey = (typeof SEND_KEYS)[number];

export const worktreeSend = defineMethod({
  summary:
    "Type text into the agent pane of a worktree's window, then Enter (literal keys; control characters are refused); or, with `keys`, type text and press named keys in order, without Enter.",
  surfaces: ["host"],
  params: z
    .strictObject({
      ...scope,
      name,
      text: typedText.optional(),
      /** Each item typed literally (`text`) or pressed (`key`, one of SEND_KEYS), in order. */
      keys: z
        .array(
          z.union([
            z.strictObject({ text: typedText }),
            z.strictObject({ key: z.enum(SEND_KEYS) }),
          ]),
        )
        .min(1)
        .max(256)
        .optional(),
    })
    .refine(
      (p) => (p.text === undefined) !== (p.keys === undefined),
      "give text or keys, not both",
    ),
  result: z.object({ handle: z.string(), pane: z.string() }),
});

export const worktreeRun = defineMethod({
  summary:
    "Run a command in a new pane of a worktree's window: in the worktree's sandbox (`wm sandbox run`) when its agent is sandboxed, on the host otherwise.",
  surfaces: ["host"],
  params: z.strictObject({
    ...scope,
    name,
    /** The program and its arguments (each quoted for the pane's shell; no control characters). */
    command: z.array(z.string().max(8192)).min(1).max(256),
  }),
  result: z.object({
    handle: z.string(),
    pane: z.string(),
    sandboxed: z.boolean(),
    /** The line typed into the new pane's shell. */
    line: z.string(),
  }),
});

const fileOpsResult = z.object({
  copied: z.array(z.string()),
  symlinked: z.array(z.string()),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
});

export const worktreeSyncFiles = defineMethod({
  summary:
    "Apply `files.copy` and `files.symlink` again to existing worktrees (one, or every worktree of the repository).",
  surfaces: ["host"],
  params: z.strictObject({
    ...scope,
    /** Absent (and not `all`): the worktree `cwd` lies in. */
    name: name.optional(),
    all: z.boolean().default(false),
  }),
  result: z.object({
    worktrees: z.array(z.object({ handle: z.string(), path: z.string(), files: fileOpsResult })),
  }),
});

export const worktreeCapture = defineMethod({
  summary:
    "The visible screen of the agent pane of a worktree's window (or its last `lines` lines), as tmux capture-pane prints it.",
  surfaces: ["host"],
  params: z.strictObject({
    ...scope,
    name,
    lines: z.number().int().min(1).max(100_000).optional(),
  }),
  /** `text` is the pane's raw content: it can hold escape sequences; show it through displaySafe. */
  result: z.object({ handle: z.string(), pane: z.string(), text: z.string() }),
});

export const worktreeLastDone = defineMethod({
  summary:
    "Select the window of the agent that most recently reported done (of the repository at cwd, or all).",
  surfaces: ["host"],
  params: z.strictObject({
    cwd: absolutePath.optional(),
    all: z.boolean().default(false),
    tmux: tmuxClient.optional(),
  }),
  result: z.object({ worktree: worktreeSummary }),
});

/** A path inside the worktree as git prints it: relative, no `..` segment, no control character. */
const diffPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.startsWith("/"), "must be relative to the worktree")
  .refine((p) => !p.split("/").includes(".."), "must not contain a `..` segment")
  .refine((p) => !/[\0]/.test(p), "must not contain a NUL character");

export const worktreeDiffFile = z.object({
  /** Path in the worktree now (for a deleted file: where it was). */
  path: z.string(),
  /** The path at the merge base, for a renamed file. */
  oldPath: z.string().nullable(),
  status: z.enum(["added", "modified", "deleted", "renamed"]),
  /** Lines added and deleted from the merge base to the worktree; null for a binary file. */
  additions: z.number().int().nonnegative().nullable(),
  deletions: z.number().int().nonnegative().nullable(),
  /** Changed by commits on the branch since the merge base. */
  committed: z.boolean(),
  /** Changed in the worktree and not committed (untracked files included). */
  uncommitted: z.boolean(),
});
export type WorktreeDiffFile = z.infer<typeof worktreeDiffFile>;

export const worktreeDiff = defineMethod({
  summary:
    "The changes of a worktree since its merge base with the main branch, committed and uncommitted: the changed files with line counts, and the unified patch of one file (`path`), at most 256 KiB.",
  surfaces: ["host"],
  params: z.strictObject({ ...scope, name, path: diffPath.optional() }),
  /** Paths and patch text come from the worktree's files: show them through displaySafe. */
  result: z.object({
    handle: z.string(),
    branch: z.string(),
    /** The main branch compared against. */
    base: z.string(),
    /** The merge base commit of the worktree's HEAD and `base`. */
    mergeBase: z.string(),
    files: z.array(worktreeDiffFile),
    /** The patch of `path` from the merge base to the worktree; null when no path was asked. */
    patch: z.object({ path: z.string(), text: z.string(), truncated: z.boolean() }).nullable(),
  }),
});
