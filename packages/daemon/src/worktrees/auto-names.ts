import { existsSync } from "node:fs";
import { displaySafe, type ParsedParams, type Result, RpcError } from "@wm/protocol";
import type { SafeGit } from "../git/safe-git.ts";
import { MAX_AUTO_NAME, nameFromPrompt, slugify } from "./auto-name.ts";
import { branchExists } from "./git-info.ts";
import { branchNameProblem, handleFor, worktreeBaseDir, worktreePathFor } from "./names.ts";
import { mainGit, requireRepo } from "./repo.ts";
import type { WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";

/** Whether `wm add -A` must not use a branch name: a local branch, a wm worktree's, or origin's. */
export function branchTaken(git: SafeGit, entries: readonly WorktreeEntry[]) {
  return async (branch: string): Promise<boolean> =>
    (await branchExists(git, branch)) ||
    entries.some((e) => e.branch === branch) ||
    (await git.run(["rev-parse", "--verify", "--quiet", `refs/remotes/origin/${branch}`])).code ===
      0;
}

/**
 * `wm add -A -n N` / `--foreach`: the name made once from the prompt, then `<name>-<suffix>`
 * for each agent (the suffix slugged). Every name is checked before anything is made: one that
 * is not a valid branch, repeats another, or is taken (a branch, a worktree, its directory) is
 * an error naming all of them, since these names were made to be new.
 */
export async function autoBranchNames(
  svc: WorktreeService,
  params: ParsedParams<"worktree.autoName">,
): Promise<Result<"worktree.autoName">> {
  const { daemon } = svc;
  const repo = await requireRepo(params.cwd, await svc.known());
  const { loaded } = await svc.configAt(repo, params.cwd);
  const base = await nameFromPrompt(loaded, params.prompt, {
    env: daemon.env,
    cwd: repo.root,
    withoutPlaceholders: true,
  });
  const branches = params.suffixes.map((raw) => {
    const suffix = slugify(raw, MAX_AUTO_NAME);
    if (!suffix)
      throw new RpcError(
        "InvalidParams",
        `"${displaySafe(raw)}" has no letter or digit to put in a branch name; use values with letters or digits`,
      );
    const branch = `${base}-${suffix}`;
    const problem = branchNameProblem(branch);
    if (problem)
      throw new RpcError(
        "InvalidParams",
        `"${displaySafe(branch)}" is not a valid branch name: ${problem}; give the branch name instead of -A`,
      );
    return branch;
  });
  const repeated = branches.filter((b, i) => branches.indexOf(b) !== i);
  if (repeated.length > 0)
    throw new RpcError(
      "InvalidParams",
      `two agents would get the same branch ${[...new Set(repeated)].join(", ")} (values that differ only in case or punctuation); nothing was created. Make the values differ in letters or digits`,
    );
  const git = mainGit(repo, daemon.env);
  const taken = branchTaken(git, await svc.entries(repo));
  const dir = worktreeBaseDir(loaded.config.worktree_dir, repo.root, daemon.homedir);
  const clashes: string[] = [];
  for (const branch of branches) {
    const handle = handleFor(branch, loaded.config.worktree_naming, loaded.config.worktree_prefix);
    if ((await taken(branch)) || existsSync(worktreePathFor(dir, handle))) clashes.push(branch);
  }
  if (clashes.length > 0)
    throw new RpcError(
      "Conflict",
      `-A named these agents ${branches.join(", ")} (from "${base}"), and ${clashes.join(", ")} ${clashes.length === 1 ? "exists" : "exist"} already (a branch, a worktree or its directory); nothing was created. Remove ${clashes.length === 1 ? "it" : "them"} (\`wm rm\`, \`git branch -D\`), or give the branch name instead of -A`,
      { branches: clashes },
    );
  return { base, branches };
}
