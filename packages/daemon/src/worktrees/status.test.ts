import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DaemonContext } from "../context.ts";
import { EventBus } from "../events.ts";
import { startWorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";

let stateDir: string;
beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), "wm-status-"));
});
afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

const entry = (p: string): WorktreeEntry => ({
  handle: "h",
  branch: "b",
  path: p,
  repo: "/r",
  commonDir: "/r/.git",
  adminDir: "/r/.git/worktrees/h",
  mode: "window",
  sandbox: true,
  tmux: null,
  status: null,
  statusAt: null,
  lastActivity: "2020-01-01T00:00:00.000Z",
  createdAt: "2020-01-01T00:00:00.000Z",
});

describe("statuses reported by sandboxed agents", () => {
  it("are recorded for the worktree and re-announced without the sandbox field", async () => {
    const events = new EventBus();
    const daemon = {
      paths: { stateDir },
      events,
      log: pino({ level: "silent" }),
      env: {},
      homedir: stateDir,
    } as unknown as DaemonContext;
    const svc = startWorktreeService(daemon);
    await svc.state.put(entry("/w/sandboxed"));
    const seen: unknown[] = [];
    events.subscribe(["status"], (e) => seen.push(e.data));
    events.emit("status", "changed", {
      sandbox: "sb1",
      worktree: "/w/sandboxed",
      status: "waiting",
    });
    await new Promise((r) => setTimeout(r, 100));
    expect((await svc.state.get("/w/sandboxed"))?.status).toBe("waiting");
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatchObject({ worktree: "/w/sandboxed", handle: "h", status: "waiting" });
    expect(seen[1]).not.toHaveProperty("sandbox");
  });
});
