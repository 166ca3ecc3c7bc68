import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeWorkbench, type Workbench } from "./worktree-fixture.ts";

// What wm itself leaves in a worktree (the prompt file of `wm add -p`, the links of
// `files.symlink`) never counts as uncommitted work for `wm merge` and `wm rm`; real uncommitted
// work still does, and `--ignore-uncommitted` merges the commits without it. `--no-verify` skips
// pre_merge hooks; `wm merge` / `wm rm` without a name act on the worktree they are run in.

type Added = { worktree: WorktreeSummary };
type Merged = {
  handle: string;
  target: string;
  removed: boolean;
  uncommitted: string[];
  hooks: unknown[];
};

function commitIn(bench: Workbench, dir: string, file: string, text: string) {
  return fs.writeFile(path.join(dir, file), text).then(() => {
    bench.git(dir, "add", file);
    bench.git(
      dir,
      "-c",
      "user.name=Agent",
      "-c",
      "user.email=agent@example.invalid",
      "commit",
      "-q",
      "-m",
      `add ${file}`,
    );
  });
}

const onMain = (bench: Workbench, file: string) => existsSync(path.join(bench.repo, file));

describe("wm's own files, --ignore-uncommitted, --no-verify, and the current worktree", () => {
  let bench: Workbench;
  let hookMark: string;

  beforeAll(async () => {
    const marks = await fs.mkdtemp("/tmp/wm-own-files-");
    hookMark = path.join(marks, "pre-merge-ran");
    // The agent writes the prompt it was given next to its worktree (never inside it).
    const agent = `printf '%s' "$0" > "../$(basename "$PWD").prompt"`;
    bench = await makeWorkbench({
      global: [
        "agent: demo",
        "agents:",
        "  demo:",
        "    command: sh",
        `    args: ["-c", ${JSON.stringify(agent)}]`,
        "pre_merge:",
        `  - 'case "$WM_HANDLE" in v*) touch ${hookMark}; exit 1;; esac'`,
        "",
      ].join("\n"),
    });
  });
  afterAll(async () => {
    await bench?.cleanup();
    await fs.rm(path.dirname(hookMark), { recursive: true, force: true });
  });

  it("wm add -p leaves nothing in the worktree's status; the agent gets the prompt and wm merge goes through", async () => {
    const { worktree } = await bench.wmJson<Added>(["add", "m1", "-p", "hi there", "-b"]);
    const told = path.join(path.dirname(worktree.path), "m1.prompt");
    await eventually(
      async () => (await fs.readFile(told, "utf8").catch(() => "")) === "hi there",
      "the agent to write the prompt it got",
    );
    expect(existsSync(path.join(worktree.path, ".workmux"))).toBe(false);
    expect(bench.git(worktree.path, "status", "--porcelain", "--untracked-files=all")).toBe("");
    await commitIn(bench, worktree.path, "m1.txt", "m1\n");
    const merged = await bench.wm(["merge", "m1"]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(onMain(bench, "m1.txt")).toBe(true);
    expect(existsSync(worktree.path)).toBe(false);
  });

  let u1: WorktreeSummary;

  it("control: a real untracked file still blocks the merge, and the message names --ignore-uncommitted", async () => {
    u1 = (await bench.wmJson<Added>(["add", "u1", "-p", "work", "-b"])).worktree;
    await commitIn(bench, u1.path, "u1.txt", "u1\n");
    await fs.writeFile(path.join(u1.path, "notes.txt"), "not committed\n");
    await fs.writeFile(path.join(u1.path, "README.md"), "changed, not committed\n");
    const refused = await bench.wm(["merge", "u1"]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain("uncommitted changes");
    expect(refused.stderr).toContain("notes.txt");
    expect(refused.stderr).toContain("README.md");
    expect(refused.stderr).toContain("--ignore-uncommitted");
    expect(refused.stderr).not.toContain(".workmux");
    expect(onMain(bench, "u1.txt")).toBe(false);
  });

  it("--ignore-uncommitted merges the commits only; the uncommitted work goes with the worktree, or stays with --keep", async () => {
    const merged = await bench.wmJson<Merged>(["merge", "u1", "--ignore-uncommitted"]);
    expect(merged).toMatchObject({ handle: "u1", removed: true });
    expect(merged.uncommitted.sort()).toEqual([" M README.md", "?? notes.txt"]);
    expect(onMain(bench, "u1.txt")).toBe(true);
    expect(onMain(bench, "notes.txt")).toBe(false);
    expect(await fs.readFile(path.join(bench.repo, "README.md"), "utf8")).toBe("hello\n");
    expect(existsSync(u1.path)).toBe(false);

    const u2 = (await bench.wmJson<Added>(["add", "u2", "-b"])).worktree;
    await commitIn(bench, u2.path, "u2.txt", "u2\n");
    await fs.writeFile(path.join(u2.path, "notes.txt"), "stays\n");
    const kept = await bench.wm(["merge", "u2", "--ignore-uncommitted", "--keep"]);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain("not merged: 1 uncommitted change, left in the worktree");
    expect(onMain(bench, "u2.txt")).toBe(true);
    expect(await fs.readFile(path.join(u2.path, "notes.txt"), "utf8")).toBe("stays\n");
    expect((await bench.wm(["rm", "u2", "-f"])).code).toBe(0);
  });

  it("--no-verify (-n) skips a pre_merge hook that would fail (control: without it the hook runs and stops the merge)", async () => {
    const { worktree } = await bench.wmJson<Added>(["add", "v1", "-b"]);
    await commitIn(bench, worktree.path, "v1.txt", "v1\n");
    const stopped = await bench.wm(["merge", "v1"]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain("pre_merge");
    expect(existsSync(hookMark)).toBe(true);
    expect(onMain(bench, "v1.txt")).toBe(false);
    await fs.rm(hookMark);

    const merged = await bench.wmJson<Merged>(["merge", "v1", "--no-verify"]);
    expect(merged.hooks).toEqual([]);
    expect(existsSync(hookMark)).toBe(false);
    expect(onMain(bench, "v1.txt")).toBe(true);

    const v2 = await bench.wmJson<Added>(["add", "v2", "-b"]);
    await commitIn(bench, v2.worktree.path, "v2.txt", "v2\n");
    const short = await bench.wm(["merge", "v2", "-n"]);
    expect(short.code, short.stderr).toBe(0);
    expect(existsSync(hookMark)).toBe(false);
    expect(onMain(bench, "v2.txt")).toBe(true);
  });

  it("wm merge and wm rm without a name act on the worktree they run in", async () => {
    const n1 = (await bench.wmJson<Added>(["add", "n1", "-b"])).worktree;
    await fs.mkdir(path.join(n1.path, "sub"));
    await commitIn(bench, path.join(n1.path, "sub"), "n1.txt", "n1\n");
    const merged = await bench.wmJson<Merged>(["merge"], { cwd: path.join(n1.path, "sub") });
    expect(merged).toMatchObject({ handle: "n1", removed: true });
    expect(onMain(bench, "sub/n1.txt")).toBe(true);
    expect(existsSync(n1.path)).toBe(false);

    const n2 = (await bench.wmJson<Added>(["add", "n2", "-b"])).worktree;
    const removed = await bench.wmJson<{ handle: string }>(["rm"], { cwd: n2.path });
    expect(removed.handle).toBe("n2");
    expect(existsSync(n2.path)).toBe(false);
  });

  it("wm merge and wm rm without a name in the main worktree say to name one", async () => {
    const keep = (await bench.wmJson<Added>(["add", "k1", "-b"])).worktree;
    for (const cmd of ["merge", "rm"]) {
      const res = await bench.wm([cmd]);
      expect(res.code, res.stdout + res.stderr).toBe(2);
      expect(res.stderr).toContain(`${bench.repo} is the main worktree`);
      expect(res.stderr).toContain(`wm ${cmd} NAME`);
    }
    const outside = await bench.wm(["rm"], { cwd: bench.home.root });
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain("not inside a worktree wm manages");
    expect(existsSync(keep.path)).toBe(true);
  });
});

describe("files.symlink links never count as uncommitted work", () => {
  let bench: Workbench;

  beforeAll(async () => {
    bench = await makeWorkbench({
      global: [
        'agent: "echo agent-started"',
        "files:",
        "  symlink: [node_modules, tools/cache]",
        "",
      ].join("\n"),
    });
    await fs.writeFile(path.join(bench.repo, ".gitignore"), "node_modules/\n");
    bench.git(bench.repo, "add", ".gitignore");
    bench.git(bench.repo, "commit", "-q", "-m", "ignore node_modules/");
    await fs.mkdir(path.join(bench.repo, "node_modules", "dep"), { recursive: true });
    await fs.writeFile(path.join(bench.repo, "node_modules", "dep", "index.js"), "\n");
    // Untracked in the main worktree: its link lands in a directory of its own in a worktree.
    await fs.mkdir(path.join(bench.repo, "tools", "cache"), { recursive: true });
  });
  afterAll(async () => {
    await bench?.cleanup();
  });

  it("git reports the links as untracked (node_modules/ matches no symlink), yet wm merge goes through", async () => {
    const { worktree } = await bench.wmJson<Added>(["add", "s1", "-b"]);
    expect(await fs.readlink(path.join(worktree.path, "node_modules"))).toBe(
      path.join(bench.repo, "node_modules"),
    );
    expect(bench.git(worktree.path, "status", "--porcelain")).toBe("?? node_modules\n?? tools/");
    await commitIn(bench, worktree.path, "s1.txt", "s1\n");
    const merged = await bench.wm(["merge", "s1"]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(onMain(bench, "s1.txt")).toBe(true);
    expect(existsSync(worktree.path)).toBe(false);
    expect(existsSync(path.join(bench.repo, "node_modules", "dep", "index.js"))).toBe(true);
  });

  it("wm rm is not blocked by it either; control: a link the agent made elsewhere is", async () => {
    const { worktree } = await bench.wmJson<Added>(["add", "s2", "-b"]);
    await fs.symlink(path.join(bench.repo, "README.md"), path.join(worktree.path, "other-link"));
    const refused = await bench.wm(["rm", "s2"]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain("other-link");
    expect(refused.stderr).not.toContain("node_modules");
    expect(refused.stderr).not.toContain("tools");
    await fs.rm(path.join(worktree.path, "other-link"));
    const removed = await bench.wm(["rm", "s2"]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(existsSync(worktree.path)).toBe(false);
    expect(existsSync(path.join(bench.repo, "node_modules", "dep", "index.js"))).toBe(true);
  });
});
