import { displaySafe, RpcError } from "@wm/protocol";
import type { SafeGit } from "../git/safe-git.ts";
import { branchExists } from "./git-info.ts";
import { assertBranchName } from "./names.ts";

/** What `wm add BRANCH` checks out. */
export type BranchPlan =
  | { kind: "existing"; branch: string }
  /** A new local `branch` made from the remote-tracking `remoteRef` (`origin/x`), tracking it. */
  | { kind: "tracking"; branch: string; remote: string; remoteRef: string }
  | { kind: "new"; branch: string };

/** The remotes configured in the repository (`remote.<name>.url` / `.fetch`). */
async function remoteNames(git: SafeGit): Promise<string[]> {
  const res = await git.run([
    "config",
    "--name-only",
    "--get-regexp",
    "^remote\\..+\\.(url|fetch)$",
  ]);
  const names = new Set<string>();
  for (const key of res.code === 0 ? res.stdout.split("\n") : []) {
    const name = /^remote\.(.+)\.(?:url|fetch)$/.exec(key.trim())?.[1];
    if (name) names.add(name);
  }
  return [...names];
}

async function remoteBranchExists(git: SafeGit, remote: string, branch: string) {
  const ref = `refs/remotes/${remote}/${branch}`;
  return (await git.run(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])).code === 0;
}

async function upstreamOf(git: SafeGit, branch: string): Promise<string> {
  const res = await git.run(["for-each-ref", "--format=%(upstream:short)", `refs/heads/${branch}`]);
  return res.code === 0 ? res.stdout.trim() : "";
}

async function configValue(git: SafeGit, key: string): Promise<string | undefined> {
  const res = await git.run(["config", "--get", key]);
  return res.code === 0 ? res.stdout.trim() || undefined : undefined;
}

/** `REMOTE/BRANCH`: the local `BRANCH` tracking that remote-tracking branch. */
async function fromNamedRemote(
  git: SafeGit,
  requested: string,
  remote: string,
): Promise<BranchPlan> {
  const branch = requested.slice(remote.length + 1);
  assertBranchName(branch);
  if (!(await remoteBranchExists(git, remote, branch))) {
    throw new RpcError(
      "InvalidParams",
      `"${displaySafe(requested)}" names the remote "${displaySafe(remote)}", which has no branch "${displaySafe(branch)}" here; \`git fetch ${displaySafe(remote)}\` fetches its branches (wm does not fetch)`,
      { branch: requested, remote },
    );
  }
  if (await branchExists(git, branch)) {
    const upstream = await upstreamOf(git, branch);
    if (upstream === requested) return { kind: "existing", branch };
    throw new RpcError(
      "Conflict",
      `a local branch "${displaySafe(branch)}" exists already${upstream ? ` and tracks ${displaySafe(upstream)}` : ""}, not ${displaySafe(requested)}; \`wm add ${displaySafe(branch)}\` checks it out`,
      { branch, upstream: upstream || null },
    );
  }
  return { kind: "tracking", branch, remote, remoteRef: requested };
}

/**
 * What `wm add` checks out for `requested`, as git's own DWIM does (`git switch`,
 * `git worktree add`): an existing local branch as it is; `REMOTE/BRANCH` (a configured remote
 * with that remote-tracking branch) as a new local `BRANCH` tracking it; a name that is a
 * branch on exactly one remote (or on `checkout.defaultRemote` among several) as a new local
 * branch tracking that; anything else as a new branch. Only remote-tracking branches already
 * fetched count: wm never fetches.
 */
export async function planBranch(git: SafeGit, requested: string): Promise<BranchPlan> {
  assertBranchName(requested);
  if (await branchExists(git, requested)) return { kind: "existing", branch: requested };
  const remotes = await remoteNames(git);
  const named = remotes
    .filter((r) => requested.startsWith(`${r}/`))
    .sort((a, b) => b.length - a.length)[0];
  if (named) return fromNamedRemote(git, requested, named);
  const on: string[] = [];
  for (const remote of remotes)
    if (await remoteBranchExists(git, remote, requested)) on.push(remote);
  if (on.length > 1) {
    const preferred = await configValue(git, "checkout.defaultRemote");
    if (preferred && on.includes(preferred)) on.splice(0, on.length, preferred);
  }
  const [remote, ...others] = on;
  if (remote && others.length === 0)
    return { kind: "tracking", branch: requested, remote, remoteRef: `${remote}/${requested}` };
  if (remote) {
    throw new RpcError(
      "Conflict",
      `branch "${displaySafe(requested)}" is on several remotes (${on.map((r) => displaySafe(r)).join(", ")}); say which: \`wm add ${displaySafe(remote)}/${displaySafe(requested)}\` (or set checkout.defaultRemote)`,
      { branch: requested, remotes: on },
    );
  }
  return { kind: "new", branch: requested };
}

/** `git worktree add` arguments that check the plan out at `target` (`from`: a new branch's start). */
export function worktreeAddArgs(plan: BranchPlan, target: string, from?: string): string[] {
  if (plan.kind === "existing") return ["--", target, plan.branch];
  if (plan.kind === "tracking")
    return ["--track", "-b", plan.branch, "--", target, `refs/remotes/${plan.remoteRef}`];
  return ["-b", plan.branch, "--", target, from ?? "HEAD"];
}
