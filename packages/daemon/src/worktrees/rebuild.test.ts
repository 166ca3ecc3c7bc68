import { mkdir } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TempTree } from "../../test/fixtures/config/temp-tree.ts";
import { sandboxRecord } from "../../test/fixtures/sandbox-record.ts";
import { type ServiceTree, serviceTree } from "../../test/fixtures/worktree-service.ts";
import { recordWorktree } from "../sandbox/git-layout.ts";
import { rebuildEntries, rememberTracked } from "./rebuild.ts";
import type { WorktreeService } from "./service.ts";

let tree: TempTree;
let svc: WorktreeService;
let git: ServiceTree["git"];
let config: ServiceTree["config"];

/**
 * `proj` with worktrees where `wm add` puts them (`proj__worktrees/<handle>`) and three it did
 * not make: one elsewhere, one detached, one whose branch is not its directory's name.
 */
beforeEach(async () => {
  ({ tree, svc, git, config } = await serviceTree((at) => [
    ["-b", "one", at("proj__worktrees/one")],
    ["-b", "feature/two", at("proj__worktrees/feature-two")],
    ["-b", "elsewhere", at("elsewhere")],
    ["--detach", at("proj__worktrees/detached")],
    ["-b", "renamed", at("proj__worktrees/not-renamed")],
  ]));
  // The repository is known from what `wm add` recorded of one of its worktrees.
  await svc.daemon.worktreeRecords.remember(await recordWorktree(tree.at("proj__worktrees/one")));
});
afterEach(async () => {
  await tree.remove();
});

const rebuilt = async (text?: string) =>
  rebuildEntries(
    svc,
    text === undefined
      ? { kind: "missing" }
      : { kind: "moved-aside", aside: "/x", reason: "test", text },
  );

describe("tracked worktrees rebuilt from git", () => {
  it("are the linked worktrees where wm add puts their branch's worktree, nothing made up", async () => {
    const entries = (await rebuilt()).sort((a, b) => a.handle.localeCompare(b.handle));
    expect(entries.map((e) => [e.handle, e.branch, e.path])).toEqual([
      ["feature-two", "feature/two", tree.at("proj__worktrees/feature-two")],
      ["one", "one", tree.at("proj__worktrees/one")],
    ]);
    expect(entries[1]).toMatchObject({
      repo: tree.at("proj"),
      commonDir: tree.at("proj/.git"),
      adminDir: tree.at("proj/.git/worktrees/one"),
      mode: "window",
      sandbox: false,
      tmux: null,
      status: null,
      statusAt: null,
    });
  });

  it("follow worktree_dir and worktree_prefix as wm add does", async () => {
    git(tree.at("proj"), "worktree", "add", "-q", "-b", "three", tree.at("trees/proj/wm-three"));
    await config("worktree_dir: ../trees/{project}\nworktree_prefix: wm-\n");
    expect((await rebuilt()).map((e) => e.handle)).toEqual(["wm-three"]);
  });

  it("know no repository wm has no record of", async () => {
    await svc.daemon.worktreeRecords.forget(tree.at("proj__worktrees/one"));
    expect(await rebuilt()).toEqual([]);
  });

  it("know the repositories of worktrees tracked before wm add recorded them", async () => {
    await svc.daemon.worktreeRecords.forget(tree.at("proj__worktrees/one"));
    expect(await rebuilt()).toEqual([]);
    const record = await recordWorktree(tree.at("proj__worktrees/feature-two"));
    await svc.state.put({
      handle: "feature-two",
      branch: "feature/two",
      path: record.worktreePath,
      repo: tree.at("proj"),
      commonDir: record.commonDir,
      adminDir: record.adminDir,
      mode: "window",
      sandbox: false,
      tmux: null,
      status: null,
      statusAt: null,
      lastActivity: "2020-01-01T00:00:00.000Z",
      createdAt: "2020-01-01T00:00:00.000Z",
    });
    await rememberTracked(svc);
    expect(await svc.daemon.worktreeRecords.all()).toEqual([record]);
    expect(await rebuilt()).toHaveLength(2);
  });

  it("learn repositories from what a damaged state file still tells", async () => {
    await svc.daemon.worktreeRecords.forget(tree.at("proj__worktrees/one"));
    const damaged = JSON.stringify({ version: 7, worktrees: [{ repo: tree.at("proj") }] });
    expect(await rebuilt(damaged)).toHaveLength(2);
  });
});

describe("the sandbox flag of a rebuilt worktree is never less isolated than before", () => {
  const sandboxOf = async (text?: string) =>
    Object.fromEntries((await rebuilt(text)).map((e) => [e.handle, e.sandbox]));

  it("on when the configuration enables sandboxes", async () => {
    await config("sandbox:\n  enabled: true\n");
    expect(await sandboxOf()).toEqual({ one: true, "feature-two": true });
  });

  it("on where a sandbox ran: its git shadow is there, or a sandbox record names it", async () => {
    const record = await recordWorktree(tree.at("proj__worktrees/feature-two"));
    await mkdir(svc.daemon.sandboxes.gitShadows.target(record).shadow.dir, { recursive: true });
    expect(await sandboxOf()).toEqual({ one: false, "feature-two": true });
    await svc.daemon.sandboxes.registry.put(
      sandboxRecord({
        id: "sb-000000000001",
        name: "one",
        worktree: tree.at("proj__worktrees/one"),
        git: { commonDir: tree.at("proj/.git"), adminDir: tree.at("proj/.git/worktrees/one") },
        containerId: null,
        state: "exited",
        exitCode: 0,
      }),
    );
    expect(await sandboxOf()).toEqual({ one: true, "feature-two": true });
  });

  it("on where the damaged file said so; its `false` never turns the configuration off", async () => {
    await config("sandbox:\n  enabled: true\n");
    const damaged = JSON.stringify({
      worktrees: [{ path: tree.at("proj__worktrees/one"), sandbox: false }],
    });
    expect(await sandboxOf(damaged)).toEqual({ one: true, "feature-two": true });
    await config("");
    const said = JSON.stringify({
      worktrees: [{ path: tree.at("proj__worktrees/one"), sandbox: true }],
    });
    expect(await sandboxOf(said)).toEqual({ one: true, "feature-two": false });
  });
});
