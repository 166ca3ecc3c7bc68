import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { rawRequest, rpcBody } from "@wm/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { checkConfigText } from "../src/config/check-text.ts";
import { ConfigCheckWorker } from "../src/config/off-thread.ts";
import { MAX_CONFIG_BYTES } from "../src/config/open-file.ts";
import { type InProcessDaemon, startTestDaemon } from "./helpers.ts";

let d: InProcessDaemon;
beforeAll(async () => {
  d = await startTestDaemon();
});
afterAll(async () => {
  await d.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** A valid project file just under 1 MiB that is slow to parse: a folded scalar of short lines. */
async function repoWithLargeFile(name: string): Promise<string> {
  const repo = path.join(d.home.root, name);
  await mkdir(path.join(repo, ".git"), { recursive: true });
  const head = "agent: large-file-agent\nnotes: >\n";
  const lines = "  a\n".repeat(Math.floor((MAX_CONFIG_BYTES - head.length) / 4));
  await writeFile(path.join(repo, ".workmux.yaml"), head + lines);
  return repo;
}

const call = (method: string, params: unknown = {}) =>
  rawRequest(d.home.socketPath, { body: rpcBody(method, params) }).then((res) => res.json());

type Check = ConfigCheckWorker["check"];

/**
 * Calls config.get for `repo` and, as soon as its project file is handed to `check`, calls
 * daemon.status; the order in which the check, the status call and config.get finish.
 */
async function finishingOrder(repo: string, check: (original: Check) => Check) {
  const order: string[] = [];
  const calls: Promise<unknown>[] = [];
  const original = ConfigCheckWorker.prototype.check;
  vi.spyOn(ConfigCheckWorker.prototype, "check").mockImplementation(function (
    this: ConfigCheckWorker,
    ...args
  ) {
    calls.push(call("daemon.status").then(() => order.push("daemon.status")));
    return check(original.bind(this))(...args).then((checked) => {
      order.push("check");
      return checked;
    });
  });
  const loaded = await call("config.get", { cwd: repo });
  order.push("config.get");
  await Promise.all(calls);
  return { order, loaded: loaded as { result?: { config: { agent: string } } } };
}

describe("a large config file is parsed off the daemon's event loop", () => {
  it("answers daemon.status while the file is being parsed on the worker", async () => {
    const repo = await repoWithLargeFile("worker");
    const { order, loaded } = await finishingOrder(repo, (original) => original);
    expect(loaded.result?.config.agent).toBe("large-file-agent");
    expect(order).toEqual(["daemon.status", "check", "config.get"]);
  });

  it("control: parsed on the event loop, the same file holds daemon.status back", async () => {
    const repo = await repoWithLargeFile("in-thread");
    const inThread = (): Check => async (file, text, role) => checkConfigText(file, text, role);
    const { order, loaded } = await finishingOrder(repo, inThread);
    expect(loaded.result?.config.agent).toBe("large-file-agent");
    expect(order.indexOf("check")).toBeLessThan(order.indexOf("daemon.status"));
  });
});
