import { setTimeout as sleep } from "node:timers/promises";
import type { WorktreeSummary } from "@wm/protocol";
import type { RunResult } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkbench, type Workbench } from "./worktree-fixture.ts";

let bench: Workbench;
const paths: Record<string, string> = {};

beforeAll(async () => {
  bench = await makeWorkbench();
  for (const name of ["w1", "w2", "w3"]) {
    paths[name] = (
      await bench.wmJson<{ worktree: WorktreeSummary }>(["add", name, "-b"])
    ).worktree.path;
  }
});
afterAll(async () => {
  await bench.cleanup();
});

function start(args: string[]) {
  const state: { result?: RunResult; exitedAt?: number } = {};
  const done = bench.wm(["wait", ...args]).then((r) => {
    state.result = r;
    state.exitedAt = Date.now();
    return r;
  });
  return { state, done };
}

const set = (name: string, status: string) =>
  bench.wm(["status", "set", status], { cwd: paths[name] as string });

describe("wm wait", () => {
  it("returns when the last of the named agents reports done, pushed by the daemon", async () => {
    await set("w1", "working");
    await set("w2", "working");
    const waiter = start(["w1", "w2", "--status", "done", "--timeout", "30", "--json"]);
    await sleep(1500);
    expect(waiter.state.result).toBeUndefined();
    await set("w1", "done");
    await sleep(500);
    expect(waiter.state.result).toBeUndefined();
    const setAt = Date.now();
    expect((await set("w2", "done")).code).toBe(0);
    const res = await waiter.done;
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      ok: true,
      status: "done",
      reached: ["w1", "w2"],
    });
    expect((waiter.state.exitedAt as number) - setAt).toBeLessThan(2000);
  });

  it("--any returns on the first; a status already reported counts", async () => {
    const waiter = start(["w2", "w3", "--status", "waiting", "--any"]);
    await sleep(1000);
    expect(waiter.state.result).toBeUndefined();
    await set("w3", "waiting");
    const res = await waiter.done;
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe("w3: waiting");
    const already = await bench.wm(["wait", "w1"]);
    expect(already.code).toBe(0);
    expect(already.stdout.trim()).toBe("w1: done");
  });

  it("fails on timeout, on an unknown name, and when the worktree is removed while waiting", async () => {
    const timed = await bench.wm(["wait", "w1", "--status", "working", "--timeout", "1"]);
    expect(timed.code).toBe(1);
    expect(timed.stderr).toContain("timed out after 1 s");
    const unknown = await bench.wm(["wait", "nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no worktree named "nope"');
    await set("w2", "working");
    const waiter = start(["w2", "--status", "done"]);
    await sleep(1000);
    expect((await bench.wm(["rm", "w2", "-f"])).code).toBe(0);
    const res = await waiter.done;
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("w2 was removed while waiting");
  });
});
