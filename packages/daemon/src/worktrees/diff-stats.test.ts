import { execFileSync } from "node:child_process";
import { mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DaemonContext } from "../context.ts";
import { EventBus } from "../events.ts";
import { parseShortstat } from "./diff-stats.ts";
import { startWorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";

let root: string;
let repo: string;
let wt: string;
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: root, GIT_CONFIG_NOSYSTEM: "1" },
    encoding: "utf8",
  });

beforeAll(async () => {
  root = await realpath(await mkdtemp(path.join(os.tmpdir(), "wm-diff-")));
  repo = path.join(root, "proj");
  wt = path.join(root, "wt");
  execFileSync("mkdir", ["-p", repo]);
  git(repo, "init", "-q", "-b", "main");
  git(repo, "config", "user.name", "T");
  git(repo, "config", "user.email", "t@example.invalid");
  await writeFile(path.join(repo, "a.txt"), "one\ntwo\n");
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "init");
  git(repo, "worktree", "add", "-q", "-b", "feat", wt);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("parseShortstat", () => {
  it("reads files, insertions and deletions, any of them absent", () => {
    expect(parseShortstat(" 3 files changed, 10 insertions(+), 2 deletions(-)\n")).toEqual({
      files: 3,
      added: 10,
      removed: 2,
    });
    expect(parseShortstat(" 1 file changed, 1 deletion(-)\n")).toEqual({
      files: 1,
      added: 0,
      removed: 1,
    });
    expect(parseShortstat("")).toEqual({ files: 0, added: 0, removed: 0 });
  });
});

describe("diff sizes of worktrees", () => {
  it("are computed against the main branch's merge base, kept, and refreshed by the worktree's events; null for a missing branch", async () => {
    const events = new EventBus();
    const daemon = {
      paths: { stateDir: root },
      events,
      log: pino({ level: "silent" }),
      env: { PATH: process.env.PATH },
      homedir: root,
    } as unknown as DaemonContext;
    const svc = startWorktreeService(daemon);
    const entry: WorktreeEntry = {
      handle: "wt",
      branch: "feat",
      path: wt,
      repo,
      commonDir: path.join(repo, ".git"),
      adminDir: path.join(repo, ".git", "worktrees", "wt"),
      mode: "window",
      sandbox: false,
      tmux: null,
      status: null,
      statusAt: null,
      lastActivity: "2020-01-01T00:00:00.000Z",
      createdAt: "2020-01-01T00:00:00.000Z",
    };
    await svc.state.put(entry);
    expect(await svc.diffs.get(entry)).toEqual({ base: "main", files: 0, added: 0, removed: 0 });

    await writeFile(path.join(wt, "a.txt"), "one\nTWO\nthree\n");
    await writeFile(path.join(wt, "b.txt"), "b\n");
    git(wt, "add", "-A");
    git(wt, "commit", "-q", "-m", "work");
    await writeFile(path.join(repo, "c.txt"), "main moves on\n");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "main");
    expect((await svc.diffs.get(entry))?.files).toBe(0);

    events.emit("status", "changed", { worktree: wt, status: "done" });
    await sleep(50);
    expect(await svc.diffs.get(entry)).toEqual({ base: "main", files: 2, added: 3, removed: 1 });
    expect((await svc.summary(entry)).diff).toMatchObject({ files: 2 });

    expect(await svc.diffs.get({ ...entry, path: "/gone", branch: "gone" })).toBeNull();
    svc.diffs.stop();
  });
});
