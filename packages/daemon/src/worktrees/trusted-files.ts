import { createHash } from "node:crypto";
import { readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { DEFAULT_SOURCE } from "../config/defaults.ts";
import type { LoadedConfig } from "../config/index.ts";
import { WORKTREE_SAFE_KEYS } from "../config/key-policy.ts";
import { PROJECT_FILE_NAMES } from "../config/locate.ts";
import { parseYaml } from "../config/parse.ts";
import { deepEqual, isTree, type Tree, withoutNulls } from "../config/tree.ts";
import type { SafeGit } from "../git/safe-git.ts";
import { gitOk, isInside } from "./repo.ts";

/**
 * Files in the main worktree that wm reads as configuration: every `.workmux.yaml` /
 * `.workmux.yml` (the nearest one walking up from the current directory is read, so any depth
 * counts) and, at the root, `CLAUDE.md`, whose presence picks the default panes (the agent's
 * command or a shell) when no panes are configured.
 */
export const CLAUDE_MD = "CLAUDE.md";

const PROJECT_NAMES: readonly string[] = PROJECT_FILE_NAMES;
const PATHSPECS = [
  ...PROJECT_FILE_NAMES.map((name) => `:(top,glob,icase)**/${name}`),
  `:(top,icase)${CLAUDE_MD}`,
];
const MAX_DIFF_CHARS = 64 * 1024;
const MAX_LINK_HOPS = 40;

/** A path (relative to the repository root, `/`-separated) wm reads a project file from. */
export function isProjectFilePath(file: string): boolean {
  const base = file.slice(file.lastIndexOf("/") + 1).toLowerCase();
  return PROJECT_NAMES.includes(base);
}

const isClaudeMd = (file: string) => file.toLowerCase() === CLAUDE_MD.toLowerCase();

/** What wm would read at one path: the text (null: nothing there) and where it really comes from. */
interface Seen {
  text: string | null;
  /** The file actually read when the path is a symbolic link: relative inside the repository, else absolute. */
  via?: string;
}

/** What wm reads as configuration in one state of the main worktree. */
export interface TrustedState {
  files: Map<string, Seen>;
}

/** One project file whose host-run settings change, as shown to the user. */
export interface TrustedChange {
  file: string;
  /** Host-run settings (keys outside the worktree-safe set) before and after; null when absent. */
  old: Tree | null;
  new: Tree | null;
  /** Top-level keys whose value changes. */
  keys: string[];
  note?: string;
}

// --- reading the state of a commit (or tree) ------------------------------------------------

interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
}

async function entryAt(git: SafeGit, rev: string, file: string): Promise<TreeEntry | undefined> {
  const out = await gitOk(git, [
    "ls-tree",
    "-z",
    "--full-tree",
    rev,
    "--",
    `:(top,literal)${file}`,
  ]);
  const line = out.split("\0").find((l) => l.endsWith(`\t${file}`));
  const match = line ? /^(\d+) (\w+) ([0-9a-f]+)\t/.exec(line) : null;
  return match
    ? { mode: match[1] as string, type: match[2] as string, oid: match[3] as string }
    : undefined;
}

const blobText = (git: SafeGit, oid: string) => gitOk(git, ["cat-file", "blob", oid]);

/** A file outside the repository, read from disk (a merge cannot change it). */
async function outside(real: string): Promise<Seen> {
  const text = await readFile(real, "utf8").catch(() => null);
  return { text, via: real };
}

/** `abs` with every existing leading part resolved on disk. */
async function realOnDisk(abs: string): Promise<string> {
  const rest: string[] = [];
  for (let dir = abs; ; dir = path.dirname(dir)) {
    const real = await realpath(dir).catch(() => undefined);
    if (real) return path.join(real, ...rest);
    if (path.dirname(dir) === dir) return abs;
    rest.unshift(path.basename(dir));
  }
}

/**
 * What reading `file` in `rev`'s tree yields, following symbolic links the way the kernel
 * would (one component at a time, `..` after the link is resolved); a link that leads out of
 * the main worktree is read from disk.
 */
async function readInTree(git: SafeGit, root: string, rev: string, file: string): Promise<Seen> {
  let todo = file.split("/");
  const done: string[] = [];
  let hops = 0;
  let last: TreeEntry | undefined;
  let linked = false;
  /** Continues at an absolute path: inside the main worktree in the tree, else on disk. */
  const jump = async (abs: string): Promise<Seen | undefined> => {
    const real = await realOnDisk(abs);
    if (!isInside(real, root)) return outside(real);
    todo = path.relative(root, real).split(path.sep);
    done.length = 0;
    return undefined;
  };
  while (todo.length > 0) {
    const part = todo.shift() as string;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (done.length > 0) {
        done.pop();
        continue;
      }
      const left = await jump(path.resolve(root, "..", ...todo));
      if (left) return left;
      continue;
    }
    const at = [...done, part].join("/");
    const entry = await entryAt(git, rev, at);
    if (!entry) return { text: null, ...(linked ? { via: at } : {}) };
    if (entry.mode === "120000") {
      if (++hops > MAX_LINK_HOPS) return { text: null, via: `${at} (too many links)` };
      linked = true;
      const link = await blobText(git, entry.oid);
      if (path.posix.isAbsolute(link)) {
        const left = await jump(path.resolve(link, ...todo));
        if (left) return left;
        continue;
      }
      todo = [...link.split("/"), ...todo];
      continue;
    }
    if (todo.some((p) => p !== "" && p !== ".") && entry.type !== "tree") return { text: null };
    done.push(part);
    last = entry;
  }
  const via = done.join("/");
  if (last?.type !== "blob") return { text: null, ...(linked ? { via } : {}) };
  return { text: await blobText(git, last.oid), ...(linked ? { via } : {}) };
}

const emptyTrees = new Map<string, string>();

/** Paths of the project files and the root CLAUDE.md in `rev` (a commit or a tree). */
async function trackedIn(git: SafeGit, rev: string): Promise<string[]> {
  let empty = emptyTrees.get(git.gitDir);
  if (!empty) {
    const res = await git.run(["hash-object", "-t", "tree", "--stdin"], { input: "" });
    empty = res.stdout.trim();
    if (res.code !== 0 || !empty) throw new Error(`git hash-object failed: ${res.stderr.trim()}`);
    emptyTrees.set(git.gitDir, empty);
  }
  const out = await gitOk(git, [
    "diff-tree",
    "-r",
    "-z",
    "--no-renames",
    "--name-only",
    empty,
    rev,
    "--",
    ...PATHSPECS,
  ]);
  return out.split("\0").filter((p) => p && (isProjectFilePath(p) || isClaudeMd(p)));
}

/** Trusted files as `rev`'s tree has them. */
export async function stateOfTree(git: SafeGit, root: string, rev: string): Promise<TrustedState> {
  const files = new Map<string, Seen>();
  for (const file of await trackedIn(git, rev))
    files.set(file, await readInTree(git, root, rev, file));
  return { files };
}

/** The trusted files that could exist on disk: tracked in any of `revs`, or untracked now. */
export async function trustedPaths(git: SafeGit, revs: readonly string[]): Promise<string[]> {
  const all = new Set<string>([CLAUDE_MD]);
  for (const rev of revs) for (const file of await trackedIn(git, rev)) all.add(file);
  const untracked = await gitOk(git, ["ls-files", "-z", "--others", "--", ...PATHSPECS]);
  for (const file of untracked.split("\0")) if (file && isProjectFilePath(file)) all.add(file);
  return [...all].sort();
}

/** Trusted files as wm would read them from the main worktree on disk now. */
export async function stateOnDisk(root: string, files: readonly string[]): Promise<TrustedState> {
  const out = new Map<string, Seen>();
  for (const file of files) {
    const abs = path.join(root, file);
    const real = await realpath(abs).catch(() => undefined);
    const isFile = real ? (await stat(real).catch(() => undefined))?.isFile() : false;
    const text = real && isFile ? await readFile(real, "utf8").catch(() => null) : null;
    const seen: Seen = { text };
    if (real && real !== abs) seen.via = isInside(real, root) ? path.relative(root, real) : real;
    if (text !== null || seen.via !== undefined) out.set(file, seen);
  }
  return { files: out };
}

// --- comparing two states --------------------------------------------------------------------

/**
 * The trusted files whose content (or the file behind them) differs between two states.
 * CLAUDE.md counts only when it can matter: its presence, while the default panes are in use.
 */
export function changedFiles(
  before: TrustedState,
  after: TrustedState,
  defaultPanes: boolean,
): string[] {
  const names = new Set([...before.files.keys(), ...after.files.keys()]);
  return [...names].sort().filter((file) => {
    const a = before.files.get(file);
    const b = after.files.get(file);
    if (a?.via !== b?.via) return !isClaudeMd(file) || defaultPanes;
    if (isClaudeMd(file)) return defaultPanes && (a?.text != null) !== (b?.text != null);
    return (a?.text ?? null) !== (b?.text ?? null);
  });
}

type Parsed = { ok: true; value: Tree } | { ok: false; error: string };

function hostRun(file: string, text: string): Parsed {
  const parsed = parseYaml(file, text);
  if (parsed.errors.length > 0 || parsed.value === undefined)
    return { ok: false, error: parsed.errors[0]?.message ?? "invalid YAML" };
  const raw = withoutNulls(parsed.value ?? {});
  if (!isTree(raw)) return { ok: false, error: "not a map of keys" };
  return {
    ok: true,
    value: Object.fromEntries(Object.entries(raw).filter(([key]) => !WORKTREE_SAFE_KEYS.has(key))),
  };
}

/** With no panes or agent configured, the default panes depend on whether CLAUDE.md exists. */
export function usesDefaultPanes(loaded: LoadedConfig): boolean {
  return Object.entries(loaded.sources).every(
    ([key, source]) =>
      source === DEFAULT_SOURCE || !(key === "agent" || /^(panes|windows)(\.|$)/.test(key)),
  );
}

const AGENT_PANES = [
  { command: "<agent>", focus: true },
  { command: "clear", split: "horizontal" },
];
const SHELL_PANES = [{ focus: true }, { command: "clear", split: "horizontal" }];

/**
 * The changes to what wm runs on the host among `files` (from {@link changedFiles}): host-run
 * keys that differ, project files that appear or disappear (a nested one replaces the one above
 * it for commands run below it), files that now come from elsewhere or no longer parse, and a
 * CLAUDE.md that appears or disappears while the default panes are in use.
 */
export function hostRunChanges(
  before: TrustedState,
  after: TrustedState,
  files: readonly string[],
  defaultPanes: boolean,
): TrustedChange[] {
  const changes: TrustedChange[] = [];
  for (const file of files) {
    const a = before.files.get(file);
    const b = after.files.get(file);
    if (isClaudeMd(file)) {
      const had = a?.text != null;
      const has = b?.text != null;
      const notes: string[] = [];
      if (had !== has) {
        notes.push(
          has
            ? `${file} appears: with no panes or agent configured, new worktrees' first pane runs the agent instead of a shell`
            : `${file} disappears: with no panes or agent configured, new worktrees' first pane runs a shell instead of the agent`,
        );
      }
      if (a?.via !== b?.via) notes.push(`${file} is now ${b?.via ?? "a plain file"}`);
      if (!defaultPanes || notes.length === 0) continue;
      changes.push({
        file,
        old: { panes: had ? AGENT_PANES : SHELL_PANES },
        new: { panes: has ? AGENT_PANES : SHELL_PANES },
        keys: had === has ? [] : ["panes"],
        note: notes.join("; "),
      });
      continue;
    }
    const oldText = a?.text ?? null;
    const newText = b?.text ?? null;
    const oldRun = oldText === null ? undefined : hostRun(file, oldText);
    const newRun = newText === null ? undefined : hostRun(file, newText);
    const value = (p: Parsed | undefined) => (p === undefined ? null : p.ok ? p.value : {});
    const old = value(oldRun);
    const next = value(newRun);
    const keys = [...new Set([...Object.keys(old ?? {}), ...Object.keys(next ?? {})])]
      .filter((key) => !deepEqual(old?.[key], next?.[key]))
      .sort();
    const notes: string[] = [];
    if (oldText === null && newText !== null)
      notes.push(
        `${file} is added; for commands run below its directory it replaces any project file above it`,
      );
    if (oldText !== null && newText === null) notes.push(`${file} is removed`);
    if (newRun && !newRun.ok) notes.push(`${file} no longer parses (${newRun.error})`);
    if (a?.via !== b?.via) notes.push(`${file} is now read from ${b?.via ?? "itself"}`);
    if (keys.length === 0 && notes.length === 0) continue;
    changes.push({
      file,
      old,
      new: next,
      keys,
      ...(notes.length ? { note: notes.join("; ") } : {}),
    });
  }
  return changes;
}

/** Identifies a set of changes, so a confirmation applies to exactly what was shown. */
export function changesDigest(changes: readonly TrustedChange[]): string {
  const canonical = changes.map((c) => [c.file, c.old, c.new, c.note ?? null]);
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

/** `git diff` of the trusted files between two commits or trees, bounded. */
export async function trustedDiff(
  git: SafeGit,
  from: string,
  to: string,
  changes: readonly TrustedChange[],
  before: TrustedState,
  after: TrustedState,
): Promise<string> {
  const paths = new Set<string>();
  for (const c of changes) {
    paths.add(c.file);
    for (const via of [before.files.get(c.file)?.via, after.files.get(c.file)?.via])
      if (via && !path.isAbsolute(via) && !via.includes(" (")) paths.add(via);
  }
  const res = await git.run([
    "diff",
    "--no-color",
    "--no-renames",
    from,
    to,
    "--",
    ...[...paths].map((p) => `:(top,literal)${p}`),
  ]);
  const text = res.code === 0 ? res.stdout : "";
  return text.length > MAX_DIFF_CHARS
    ? `${text.slice(0, MAX_DIFF_CHARS)}\n[diff truncated]\n`
    : text;
}

// --- what a merge would touch ----------------------------------------------------------------

/**
 * The paths the merge of `branch` into `target` writes: what the branch changed since the merge
 * base and, when its commits are replayed one by one (`eachCommit`, the rebase strategy), what
 * each of them changed. Renames count as a delete and an add.
 */
export async function pathsTouched(
  git: SafeGit,
  target: string,
  branch: string,
  eachCommit: boolean,
): Promise<string[]> {
  const all = new Set<string>();
  const net = await gitOk(git, [
    "diff",
    "--name-only",
    "-z",
    "--no-renames",
    `refs/heads/${target}...refs/heads/${branch}`,
  ]);
  for (const file of net.split("\0")) if (file) all.add(file);
  if (eachCommit) {
    const each = await gitOk(git, [
      "log",
      "--name-only",
      "-z",
      "--no-renames",
      "--format=",
      `refs/heads/${target}..refs/heads/${branch}`,
    ]);
    for (const file of each.split("\0")) if (file) all.add(file);
  }
  return [...all].sort();
}

/**
 * The tree the merge would produce (`git merge-tree --write-tree`); when git cannot tell
 * (conflicts, an older git), the branch's own tree.
 */
export async function mergedTree(git: SafeGit, target: string, branch: string): Promise<string> {
  const res = await git.run([
    "merge-tree",
    "--write-tree",
    "--no-messages",
    `refs/heads/${target}`,
    `refs/heads/${branch}`,
  ]);
  const tree = res.stdout.split("\n")[0]?.trim() ?? "";
  if (res.code === 0 && /^[0-9a-f]{40,64}$/.test(tree)) return tree;
  return `refs/heads/${branch}^{tree}`;
}
