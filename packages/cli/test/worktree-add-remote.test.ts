import { promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkbench, type Workbench } from "./worktree-fixture.ts";

/**
 * `wm add` in a clone follows git's DWIM for remote branches. The remotes are bare repositories
 * on disk (no network): `origin` has `remote-only`, `x`, `both` and `spare`, `mirror` has `both`;
 * the clone has them only as remote-tracking branches.
 */
let bench: Workbench;
let tips: Record<string, string>;

beforeAll(async () => {
  bench = await makeWorkbench();
  const origin = path.join(bench.home.root, "origin.git");
  const mirror = path.join(bench.home.root, "mirror.git");
  const other = path.join(bench.home.root, "other-clone");
  bench.git(bench.home.root, "clone", "-q", "--bare", bench.repo, origin);
  bench.git(bench.home.root, "init", "-q", "--bare", mirror);
  bench.git(bench.home.root, "clone", "-q", origin, other);
  tips = {};
  for (const branch of ["remote-only", "x", "both", "spare"]) {
    bench.git(other, "switch", "-q", "-c", branch, "origin/main");
    await fs.writeFile(path.join(other, `${branch}.txt`), `${branch}\n`);
    bench.git(other, "add", "-A");
    bench.git(
      other,
      "-c",
      "user.name=R",
      "-c",
      "user.email=r@example.invalid",
      "commit",
      "-q",
      "-m",
      branch,
    );
    bench.git(other, "push", "-q", "origin", branch);
    tips[branch] = bench.git(other, "rev-parse", "HEAD");
  }
  bench.git(other, "push", "-q", mirror, "both");
  bench.git(bench.repo, "remote", "add", "origin", origin);
  bench.git(bench.repo, "remote", "add", "mirror", mirror);
  bench.git(bench.repo, "fetch", "-q", "origin");
  bench.git(bench.repo, "fetch", "-q", "mirror");
});
afterAll(async () => {
  await bench?.cleanup();
});

type Added = { worktree: WorktreeSummary; branchCreated: boolean; tracking: string | null };

const upstream = (branch: string) =>
  bench.git(bench.repo, "for-each-ref", "--format=%(upstream:short)", `refs/heads/${branch}`);

describe("wm add with remote branches", () => {
  it("a branch only on one remote is checked out tracking it, and the output says so", async () => {
    const res = await bench.wm(["add", "remote-only", "-b"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("checked out origin/remote-only as remote-only, tracking it");
    const wt = path.join(path.dirname(bench.repo), "proj__worktrees", "remote-only");
    expect(bench.git(wt, "rev-parse", "HEAD")).toBe(tips["remote-only"]);
    expect(bench.git(wt, "symbolic-ref", "--short", "HEAD")).toBe("remote-only");
    expect(upstream("remote-only")).toBe("origin/remote-only");
    expect(await fs.readFile(path.join(wt, "remote-only.txt"), "utf8")).toBe("remote-only\n");
  });

  it("REMOTE/BRANCH makes the local BRANCH tracking it, named after BRANCH", async () => {
    const res = await bench.wmJson<Added>(["add", "origin/x", "-b"]);
    expect(res.worktree.handle).toBe("x");
    expect(res.worktree.branch).toBe("x");
    expect(res.worktree.path).toBe(path.join(path.dirname(bench.repo), "proj__worktrees", "x"));
    expect(res).toMatchObject({ branchCreated: true, tracking: "origin/x" });
    expect(bench.git(res.worktree.path, "rev-parse", "HEAD")).toBe(tips.x);
    expect(upstream("x")).toBe("origin/x");
    expect(bench.git(bench.repo, "branch", "--list", "origin/x")).toBe("");
  });

  it("a branch on several remotes is an error naming them; checkout.defaultRemote picks one, as in git", async () => {
    const res = await bench.wm(["add", "both", "-b"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("origin, mirror");
    expect(res.stderr).toContain("wm add origin/both");
    expect(bench.git(bench.repo, "branch", "--list", "both")).toBe("");
    bench.git(bench.repo, "config", "checkout.defaultRemote", "mirror");
    const ok = await bench.wm(["add", "both", "-b"]);
    bench.git(bench.repo, "config", "--unset", "checkout.defaultRemote");
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("checked out mirror/both as both, tracking it");
    expect(upstream("both")).toBe("mirror/both");
  });

  it("a new name is a new branch from main, and says so", async () => {
    const res = await bench.wm(["add", "fresh", "-b"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("new branch fresh from main");
    expect(upstream("fresh")).toBe("");
  });

  it("REMOTE/BRANCH never fetched says to fetch; --base with a remote branch is refused", async () => {
    const missing = await bench.wm(["add", "origin/nope", "-b"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("git fetch origin");
    expect(bench.git(bench.repo, "branch", "--list", "origin/nope")).toBe("");
    const based = await bench.wm(["add", "spare", "--base", "main", "-b"]);
    expect(based.code).toBe(2);
    expect(based.stderr).toContain("the remote branch origin/spare");
    expect(bench.git(bench.repo, "branch", "--list", "spare")).toBe("");
  });
});
