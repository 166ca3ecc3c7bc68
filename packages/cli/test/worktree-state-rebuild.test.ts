import { promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { killDaemon } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkbench, type Workbench } from "./worktree-fixture.ts";

/**
 * `tracked-worktrees.json` damaged while no daemon ran: the next daemon moves it aside and
 * rebuilds the entries from git, so `wm list` still shows the worktrees that exist.
 */
let bench: Workbench;
let stateFile: string;
/** The state file as the daemon wrote it after both `wm add`s. */
let pristine: string;
let added: WorktreeSummary[];

beforeAll(async () => {
  bench = await makeWorkbench();
  added = [];
  for (const branch of ["one", "feature/two"]) {
    const res = await bench.wmJson<{ worktree: WorktreeSummary }>(["add", branch, "-b"]);
    added.push(res.worktree);
  }
  stateFile = path.join(bench.home.stateDir, "tracked-worktrees.json");
  pristine = await fs.readFile(stateFile, "utf8");
}, 120_000);

afterAll(async () => {
  await bench?.cleanup();
});

async function asides(): Promise<string[]> {
  const names = await fs.readdir(bench.home.stateDir);
  return names
    .filter((n) => n.startsWith("tracked-worktrees.json.unreadable-"))
    .map((n) => path.join(bench.home.stateDir, n));
}

/** Stops the daemon, damages the state file with `damage`, and lists with a fresh daemon. */
async function listAfter(damage: () => Promise<void>): Promise<WorktreeSummary[]> {
  await killDaemon(bench.home);
  for (const old of await asides()) await fs.rm(old);
  await fs.rm(stateFile, { force: true });
  await damage();
  return (await bench.wmJson<{ worktrees: WorktreeSummary[] }>(["list"])).worktrees;
}

function expectBoth(listed: WorktreeSummary[]): void {
  expect(listed.map((w) => [w.handle, w.branch, w.path, w.exists, w.sandbox, w.status])).toEqual(
    added.map((w) => [w.handle, w.branch, w.path, true, false, null]),
  );
}

async function expectRewritten(): Promise<void> {
  const st = await fs.lstat(stateFile);
  expect(st.isFile()).toBe(true);
  const doc = JSON.parse(await fs.readFile(stateFile, "utf8"));
  expect(doc.version).toBe(1);
  expect(doc.worktrees.map((e: { path: string }) => e.path).sort()).toEqual(
    added.map((w) => w.path).sort(),
  );
}

/** The daemon's warnings that it moved the state file aside, by where it went. */
async function movedAsideWarnings(): Promise<string[]> {
  const log = await fs.readFile(bench.home.logFile, "utf8");
  return log
    .split("\n")
    .filter((line) => line.includes("moved an unreadable worktree state file aside"))
    .map((line) => JSON.parse(line) as { level: number; file: string; movedTo: string })
    .filter((l) => l.level === 40 && l.file === stateFile)
    .map((l) => l.movedTo);
}

describe("tracked worktrees survive a damaged state file", () => {
  it("garbage: moved aside (one warning says where), both worktrees rebuilt from git", async () => {
    const listed = await listAfter(() => fs.writeFile(stateFile, "\u0000{not json at all"));
    expectBoth(listed);
    const [aside, ...more] = await asides();
    expect(more).toEqual([]);
    expect(await fs.readFile(aside as string, "utf8")).toBe("\u0000{not json at all");
    expect(await movedAsideWarnings()).toEqual([aside]);
    await expectRewritten();
  });

  it("deleted: rebuilt from git as well", async () => {
    expectBoth(await listAfter(async () => undefined));
    expect(await asides()).toEqual([]);
    await expectRewritten();
  });

  it("a symlink to another file: moved aside unfollowed, the target untouched", async () => {
    const elsewhere = path.join(bench.home.root, "elsewhere.json");
    await fs.writeFile(elsewhere, pristine);
    const before = await fs.stat(elsewhere);
    const listed = await listAfter(() => fs.symlink(elsewhere, stateFile));
    expectBoth(listed);
    const [aside, ...more] = await asides();
    expect(more).toEqual([]);
    expect((await fs.lstat(aside as string)).isSymbolicLink()).toBe(true);
    expect(await fs.readlink(aside as string)).toBe(elsewhere);
    expect(await fs.readFile(elsewhere, "utf8")).toBe(pristine);
    const after = await fs.stat(elsewhere);
    expect([after.mtimeMs, after.ino, after.mode]).toEqual([
      before.mtimeMs,
      before.ino,
      before.mode,
    ]);
    await expectRewritten();
  });

  it("another version: moved aside, rebuilt, and the windows found again on the recorded tmux server", async () => {
    const future = pristine.replace(/"version": 1/, '"version": 99');
    expect(future).not.toBe(pristine);
    const listed = await listAfter(() => fs.writeFile(stateFile, future));
    expectBoth(listed);
    expect(listed.map((w) => w.window?.name)).toEqual(added.map((w) => w.window?.name));
    expect(listed.every((w) => w.window !== null)).toBe(true);
    const [aside] = await asides();
    expect(await fs.readFile(aside as string, "utf8")).toBe(future);
    await expectRewritten();
  });

  it("a rebuilt worktree works like any other: wm rm removes it", async () => {
    const res = await bench.wm(["rm", "one", "-f"]);
    expect(res.code, res.stderr).toBe(0);
    const { worktrees } = await bench.wmJson<{ worktrees: WorktreeSummary[] }>(["list"]);
    expect(worktrees.map((w) => w.handle)).toEqual(["feature-two"]);
    const records = await fs.readFile(path.join(bench.home.stateDir, "worktrees.json"), "utf8");
    expect(Object.keys(JSON.parse(records).worktrees)).toEqual([added[1]?.path]);
  });
});
