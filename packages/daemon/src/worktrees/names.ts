import path from "node:path";
import { displaySafe, RpcError, unsafeChar, unsafeTextProblem } from "@wm/protocol";

const FORBIDDEN_CHARS = new Set([..." ~^:?*[\\"]);

/**
 * Why `name` is not a valid branch name, or undefined: git's `check-ref-format --branch` rules
 * (refs.c `check_refname_component`), which safe-git does not run as a subcommand.
 */
export function branchNameProblem(name: string): string | undefined {
  if (name.length === 0) return "it is empty";
  if (name.length > 200) return "it is longer than 200 characters";
  const unsafe = unsafeTextProblem(name);
  if (unsafe) return unsafe;
  const bad = [...name].find((c) => FORBIDDEN_CHARS.has(c));
  if (bad) return `it contains ${bad === " " ? "a space" : `"${bad}"`}`;
  if (name.startsWith("-")) return 'it starts with "-"';
  if (name === "@" || name === "HEAD") return `"${name}" is reserved`;
  if (name.includes("..")) return 'it contains ".."';
  if (name.includes("@{")) return 'it contains "@{"';
  if (name.endsWith(".")) return 'it ends with "."';
  for (const part of name.split("/")) {
    if (part === "") return 'it has an empty path component (leading, trailing or double "/")';
    if (part.startsWith(".")) return `its component "${part}" starts with "."`;
    if (part.endsWith(".lock")) return `its component "${part}" ends with ".lock"`;
  }
  return undefined;
}

export function assertBranchName(name: string, what = "branch name"): void {
  const problem = branchNameProblem(name);
  if (problem) {
    throw new RpcError(
      "InvalidParams",
      `"${displaySafe(name)}" is not a valid ${what}: ${problem}`,
      { branch: name, problem },
    );
  }
}

export type Naming = "full" | "basename";

/** The worktree (and window) handle: `worktree_prefix` + the branch with "/" → "-", or its last segment. */
export function handleFor(branch: string, naming: Naming, prefix = ""): string {
  const base =
    naming === "basename" ? (branch.split("/").at(-1) ?? branch) : branch.replaceAll("/", "-");
  return checkedHandle(`${prefix}${base}`, " (from worktree_prefix)");
}

function checkedHandle(handle: string, origin: string): string {
  const problem =
    handle === "" || handle === "." || handle === ".."
      ? "it is empty, . or .."
      : handle.includes("/")
        ? `it contains "/"${origin}`
        : unsafeChar(handle) !== undefined
          ? `${unsafeTextProblem(handle)}${origin}`
          : Buffer.byteLength(handle) > 200
            ? "it is longer than 200 bytes"
            : undefined;
  if (problem) {
    throw new RpcError(
      "InvalidParams",
      `the worktree name "${displaySafe(handle)}" cannot be used: ${problem}`,
    );
  }
  return handle;
}

/**
 * `wm add --name NAME`: the handle as given, checked as derived handles are, and also refused
 * when it starts with "-" or "." (it names a directory and a tmux window).
 */
export function handleFromName(name: string): string {
  if (name.startsWith("-") || name.startsWith(".")) {
    throw new RpcError(
      "InvalidParams",
      `the worktree name "${displaySafe(name)}" cannot be used: it starts with "${name[0]}"; give --name a name like fix-login`,
    );
  }
  return checkedHandle(name, "");
}

/** `worktree_dir` with `~` and `{project}` expanded; relative to the main worktree; default `<repo>__worktrees` beside it. */
export function worktreeBaseDir(
  configured: string | undefined,
  repoRoot: string,
  homedir: string,
): string {
  const project = path.basename(repoRoot);
  if (!configured) return path.join(path.dirname(repoRoot), `${project}__worktrees`);
  let dir = configured.replaceAll("{project}", project);
  if (dir === "~") dir = homedir;
  else if (dir.startsWith("~/")) dir = path.join(homedir, dir.slice(2));
  return path.resolve(repoRoot, dir);
}

/** `<base>/<handle>`, checked to be a direct child of `base`. */
export function worktreePathFor(base: string, handle: string): string {
  const full = path.resolve(base, handle);
  if (path.dirname(full) !== path.resolve(base) || path.basename(full) !== handle) {
    throw new RpcError(
      "InvalidParams",
      `the worktree "${displaySafe(handle)}" would land outside ${base}`,
    );
  }
  return full;
}
