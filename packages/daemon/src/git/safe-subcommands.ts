const DIFF_GUARDS = ["--no-ext-diff", "--no-textconv", "--ignore-submodules=all"] as const;

/**
 * Options inserted right after the subcommand. Submodules are ignored because git runs a child
 * git inside each populated submodule, and a submodule's `.git` is whatever the agent put there;
 * `submodule.<name>.ignore` in `.gitmodules` beats `diff.ignoreSubmodules`, so only the option holds.
 */
const GUARDS: Readonly<Record<string, readonly string[]>> = {
  status: ["--ignore-submodules=all"],
  diff: DIFF_GUARDS,
  log: DIFF_GUARDS,
  show: DIFF_GUARDS,
  blame: ["--no-textconv"],
  fetch: ["--no-auto-maintenance", "--no-recurse-submodules", "--no-tags"],
};

/**
 * Built-ins the daemon may run. Anything else would make git look up `alias.<name>` or a
 * `git-<name>` program; network commands (but `fetch` from a repository given as a path or an
 * https/http/file URL: the daemon's own shadow repositories, `wm add --pr`),
 * `submodule`, `rebase`, `difftool` and `mergetool` run configured programs by design and stay
 * out until someone thinks them through.
 */
const ALLOWED = new Set([
  "add",
  "apply",
  "blame",
  "branch",
  "cat-file",
  "check-attr",
  "check-ignore",
  "checkout",
  "cherry-pick",
  "commit",
  "commit-tree",
  "config",
  "count-objects",
  "describe",
  "diff",
  "diff-files",
  "diff-index",
  "diff-tree",
  "fetch",
  "for-each-ref",
  "fsck",
  "hash-object",
  "init",
  "log",
  "ls-files",
  "ls-tree",
  "merge",
  "merge-base",
  "merge-tree",
  "mktree",
  "mv",
  "name-rev",
  "read-tree",
  "reset",
  "restore",
  "rev-list",
  "rev-parse",
  "revert",
  "rm",
  "show",
  "show-ref",
  "stash",
  "status",
  "switch",
  "symbolic-ref",
  "tag",
  "update-index",
  "update-ref",
  "var",
  "version",
  "worktree",
  "write-tree",
]);

export class UnsafeGitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    reason: string,
  ) {
    super(`refusing to run git ${args.join(" ")}: ${reason}`);
    this.name = "UnsafeGitCommandError";
  }
}

/** `args` with the subcommand's guards inserted, or an error when it is not allowed. */
export function guardArgs(args: readonly string[]): string[] {
  const [sub, ...rest] = args;
  if (sub === undefined || sub.startsWith("-")) {
    throw new UnsafeGitCommandError(args, "the first argument must be a subcommand, not an option");
  }
  if (!ALLOWED.has(sub)) {
    throw new UnsafeGitCommandError(args, `"${sub}" is not an allowed built-in subcommand`);
  }
  if (sub === "worktree" && rest[0] === "remove" && !rest.includes("--force")) {
    throw new UnsafeGitCommandError(
      args,
      "without --force git runs `status --ignore-submodules=none` in a child on paths read from the worktree's own files; check it with status first, then remove with --force",
    );
  }
  if (sub === "stash" && (rest[0] !== "create" || rest.length > 1)) {
    throw new UnsafeGitCommandError(
      args,
      "only `stash create` (which writes a commit object and changes no ref or file) is allowed",
    );
  }
  if (sub === "fetch") {
    const repository = fetchRepository(rest);
    if (!repository || !/^(\/|https?:\/\/|file:\/\/)/.test(repository)) {
      throw new UnsafeGitCommandError(
        args,
        "fetch takes the repository as an absolute path or an https/http/file URL, never a remote name (remote.<name>.* settings such as uploadpack and vcs run programs)",
      );
    }
  }
  return [sub, ...(GUARDS[sub] ?? []), ...rest];
}

/** The repository argument of `fetch` (its first argument that is not an option). */
function fetchRepository(rest: readonly string[]): string | undefined {
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === "--") return rest[i + 1];
    if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}
