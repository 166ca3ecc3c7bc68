import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../log.ts";
import type { DocumentLoss } from "../state/json-document.ts";
import { STATE_FILE, type WorktreeEntry, WorktreeState } from "./state-store.ts";

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-tracked-"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const log = createLogger({ level: "silent" });
const file = () => path.join(dir, STATE_FILE);
const onDisk = async () => JSON.parse(await fs.readFile(file(), "utf8"));

const entry = (handle: string): WorktreeEntry => ({
  handle,
  branch: handle,
  path: `/w/${handle}`,
  repo: "/r",
  commonDir: "/r/.git",
  adminDir: `/r/.git/worktrees/${handle}`,
  mode: "window",
  sandbox: false,
  tmux: null,
  status: null,
  statusAt: null,
  lastActivity: "2020-01-01T00:00:00.000Z",
  createdAt: "2020-01-01T00:00:00.000Z",
});

describe("tracked-worktrees.json", () => {
  it("a damaged file is moved aside and the rebuild's entries are written at once", async () => {
    await fs.writeFile(file(), '{"version": 1, "worktrees": [{"handle": 1}]}');
    const losses: DocumentLoss[] = [];
    const state = new WorktreeState(dir, log, async (loss) => {
      losses.push(loss);
      return [entry("a")];
    });
    expect(await state.all()).toEqual([entry("a")]);
    expect(losses).toEqual([
      {
        kind: "moved-aside",
        aside: expect.stringContaining(`${STATE_FILE}.unreadable-`),
        reason: expect.stringContaining("worktrees.0.handle"),
        text: '{"version": 1, "worktrees": [{"handle": 1}]}',
      },
    ]);
    expect(await onDisk()).toEqual({ version: 1, worktrees: [entry("a")] });
  });

  it("a rebuild that finds nothing writes nothing; one that fails leaves the store working", async () => {
    const empty = new WorktreeState(dir, log, async () => []);
    expect(await empty.all()).toEqual([]);
    await expect(fs.lstat(file())).rejects.toThrow(/ENOENT/);
    const failing = new WorktreeState(dir, log, async () => {
      throw new Error("git is gone");
    });
    expect(await failing.all()).toEqual([]);
    await failing.put(entry("b"));
    expect(await onDisk()).toEqual({ version: 1, worktrees: [entry("b")] });
  });

  it("concurrent changes all land, in order", async () => {
    const state = new WorktreeState(dir, log);
    await Promise.all([
      state.put(entry("a")),
      state.put(entry("b")),
      state.update("/w/a", () => ({ status: "working" })),
      state.delete("/w/b"),
      state.put(entry("c")),
    ]);
    const reread = await new WorktreeState(dir, log).all();
    expect(reread.map((e) => [e.handle, e.status])).toEqual([
      ["a", "working"],
      ["c", null],
    ]);
  });
});
