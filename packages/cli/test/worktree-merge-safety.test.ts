import { execFileSync } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkbench, type Workbench } from "./worktree-fixture.ts";

let bench: Workbench;
let markers: string;
const fired = async () => (await fs.readdir(markers)).sort();

/** What an unsandboxed agent can write into the shared git metadata before asking for a merge. */
async function plant(commonDir: string, scripts: string) {
  const mark = path.join(scripts, "mark.sh");
  await fs.writeFile(mark, `#!/bin/sh\ntouch '${markers}'/"$1"\ncat\n`, { mode: 0o755 });
  await fs.writeFile(
    path.join(scripts, "fsmonitor.sh"),
    `#!/bin/sh\ntouch '${markers}/fsmonitor'\nexit 1\n`,
    {
      mode: 0o755,
    },
  );
  const hooks = [
    "post-merge",
    "pre-merge-commit",
    "commit-msg",
    "reference-transaction",
    "post-checkout",
    "post-commit",
  ];
  for (const hook of hooks) {
    await fs.writeFile(
      path.join(commonDir, "hooks", hook),
      `#!/bin/sh\ntouch '${markers}/hook-${hook}'\n`,
      { mode: 0o755 },
    );
  }
  const git = (...args: string[]) => bench.git(path.dirname(commonDir), ...args);
  git("config", "core.fsmonitor", path.join(scripts, "fsmonitor.sh"));
  git("config", "filter.evil.smudge", `${mark} smudge`);
  git("config", "filter.evil.clean", `${mark} clean`);
  git("config", "filter.evil.required", "true");
  git("config", "alias.evil", `!touch '${markers}/alias'`);
  git("config", "alias.merge", `!touch '${markers}/alias-merge'`);
}

beforeAll(async () => {
  bench = await makeWorkbench();
  markers = path.join(bench.home.root, "markers");
  await fs.mkdir(markers);
});
afterAll(async () => {
  await bench.cleanup();
});

describe("wm merge runs nothing the repository's git metadata names (control: plain git does)", () => {
  let agent: WorktreeSummary;
  let control: string;

  beforeAll(async () => {
    agent = (await bench.wmJson<{ worktree: WorktreeSummary }>(["add", "agent", "-b"])).worktree;
    await fs.writeFile(path.join(agent.path, ".gitattributes"), "*.dat filter=evil\n");
    await fs.writeFile(path.join(agent.path, "payload.dat"), "payload\n");
    bench.git(agent.path, "add", ".gitattributes", "payload.dat");
    bench.git(
      agent.path,
      "-c",
      "user.name=Agent",
      "-c",
      "user.email=a@example.invalid",
      "commit",
      "-q",
      "-m",
      "agent work",
    );
    await fs.writeFile(path.join(bench.repo, "main.txt"), "main moved on\n");
    bench.git(bench.repo, "add", "main.txt");
    bench.git(bench.repo, "commit", "-q", "-m", "main moved on");
    const scripts = path.join(bench.home.root, "scripts");
    await fs.mkdir(scripts);
    await plant(path.join(bench.repo, ".git"), scripts);
    control = path.join(bench.home.root, "control");
    execFileSync("cp", ["-a", bench.repo, control]);
    expect(await fired()).toEqual([]);
  });

  it("wm merge merges, removes the worktree and branch, and fires no hook, fsmonitor, filter or alias", async () => {
    const res = await bench.wmJson<{ removed: boolean; commit: string; strategy: string }>([
      "merge",
      "agent",
    ]);
    expect(res).toMatchObject({ removed: true, strategy: "merge" });
    expect(bench.git(bench.repo, "log", "-1", "--format=%s")).toBe(
      "Merge branch 'agent' into main",
    );
    expect(await fs.readFile(path.join(bench.repo, "payload.dat"), "utf8")).toBe("payload\n");
    expect(existsSync(agent.path)).toBe(false);
    expect(bench.git(bench.repo, "branch", "--list", "agent")).toBe("");
    expect(await fired()).toEqual([]);
  });

  it("control: plain git merge in a copy of the repository fires them all", async () => {
    const env = { PATH: process.env.PATH, HOME: bench.home.root };
    execFileSync("git", ["merge", "--no-edit", "agent"], { cwd: control, env, stdio: "ignore" });
    execFileSync("git", ["evil"], { cwd: control, env });
    expect(await fired()).toEqual([
      "alias",
      "fsmonitor",
      "hook-commit-msg",
      "hook-post-merge",
      "hook-pre-merge-commit",
      "hook-reference-transaction",
      "smudge",
    ]);
  });
});

describe("merge strategies and refusals", () => {
  const commitIn = async (dir: string, file: string, text: string) => {
    await fs.writeFile(path.join(dir, file), text);
    bench.git(dir, "add", file);
    bench.git(
      dir,
      "-c",
      "user.name=Agent",
      "-c",
      "user.email=a@example.invalid",
      "commit",
      "-q",
      "-m",
      `edit ${file}`,
    );
  };
  const add = async (name: string) =>
    (await bench.wmJson<{ worktree: WorktreeSummary }>(["add", name, "-b"])).worktree;

  it("--squash makes one commit; --rebase replays the commits linearly", async () => {
    const sq = await add("sq");
    await commitIn(sq.path, "s1.txt", "1\n");
    await commitIn(sq.path, "s2.txt", "2\n");
    const before = bench.git(bench.repo, "rev-parse", "HEAD");
    await bench.wmJson(["merge", "sq", "--squash"]);
    expect(bench.git(bench.repo, "rev-list", "--count", `${before}..HEAD`)).toBe("1");
    expect(bench.git(bench.repo, "log", "-1", "--format=%P").split(" ")).toHaveLength(1);
    const rb = await add("rb");
    await commitIn(rb.path, "r1.txt", "1\n");
    await commitIn(rb.path, "r2.txt", "2\n");
    await commitIn(bench.repo, "main2.txt", "main\n");
    const base = bench.git(bench.repo, "rev-parse", "HEAD");
    await bench.wmJson(["merge", "rb", "--rebase"]);
    expect(bench.git(bench.repo, "log", "--format=%s", `${base}..HEAD`)).toBe(
      "edit r2.txt\nedit r1.txt",
    );
    expect(bench.git(bench.repo, "rev-list", "--merges", `${base}..HEAD`)).toBe("");
  });

  it("refuses uncommitted work, and aborts a conflicting merge leaving the target unchanged", async () => {
    const c = await add("clash");
    await fs.writeFile(path.join(c.path, "loose.txt"), "x\n");
    const dirty = await bench.wm(["merge", "clash"]);
    expect(dirty.code).toBe(6);
    expect(dirty.stderr).toContain("uncommitted changes");
    await fs.rm(path.join(c.path, "loose.txt"));
    await commitIn(c.path, "README.md", "agent version\n");
    await commitIn(bench.repo, "README.md", "main version\n");
    const head = bench.git(bench.repo, "rev-parse", "HEAD");
    const res = await bench.wm(["merge", "clash"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("failed and was aborted; the target is unchanged");
    expect(res.stderr).toContain("CONFLICT");
    expect(res.stderr).toContain("then run wm merge again");
    expect(res.stderr).not.toMatch(/--continue|--abort|error\.data/);
    expect(bench.git(bench.repo, "rev-parse", "HEAD")).toBe(head);
    expect(bench.git(bench.repo, "status", "--porcelain", "--untracked-files=no")).toBe("");
    expect(existsSync(c.path)).toBe(true);
  });
});
