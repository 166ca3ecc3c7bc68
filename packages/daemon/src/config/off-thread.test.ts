import { afterEach, describe, expect, it } from "vitest";
import { checkConfigText, type FileRole } from "./check-text.ts";
import { ConfigCheckWorker } from "./off-thread.ts";
import { defaultWorkerEntry } from "./worker-entry.ts";

const role: FileRole = { kind: "project", globalFile: "/home/u/.config/workmux/config.yaml" };
const workers: ConfigCheckWorker[] = [];
const worker = (opts: ConstructorParameters<typeof ConfigCheckWorker>[0] = {}) => {
  const w = new ConfigCheckWorker(opts);
  workers.push(w);
  return w;
};
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});

/** ~1 MiB of distinct keys: yaml's duplicate-key check makes this quadratic, far past any limit. */
const SLOW = Array.from({ length: 110_000 }, (_, i) => `k${i}: 1`).join("\n");

describe("ConfigCheckWorker", () => {
  it("gives what checking in this thread gives", async () => {
    const text = "agent: claude\nsandbox:\n  env: {A: b}\nmystery: 1\npanes: 3\n";
    const checked = await worker().check("/repo/.workmux.yaml", text, role);
    expect(checked).toEqual(checkConfigText("/repo/.workmux.yaml", text, role));
    expect(checked.errors.length).toBeGreaterThan(0);
    expect(checked.warnings.length).toBeGreaterThan(0);
  });

  it("refuses a file whose check runs past its time, naming it, and goes on with a new worker", async () => {
    const w = worker({ timeoutMs: 2_000 });
    const slow = w.check("/repo/.workmux.yaml", SLOW, role);
    const next = w.check("/repo/sub/.workmux.yaml", "agent: next\n", role);
    expect(await slow).toEqual({
      errors: [
        {
          file: "/repo/.workmux.yaml",
          key: "",
          message: "refused: checking it took longer than 2 s; wm reads it again once it changes",
        },
      ],
      warnings: [],
    });
    expect((await next).loaded?.value).toEqual({ agent: "next" });
  });

  it("rejects when the worker's script cannot be loaded", async () => {
    const w = worker({ entry: defaultWorkerEntry("file:///nonexistent/dist/wmd.js") });
    await expect(w.check("/repo/.workmux.yaml", "agent: a\n", role)).rejects.toThrow(
      /config check worker failed/,
    );
  });

  it("finds the bundled worker beside the bundle", () => {
    expect(defaultWorkerEntry("file:///opt/wm/dist/wmd.js")).toEqual({
      script: new URL("file:///opt/wm/dist/config-check-worker.js"),
      eval: false,
    });
  });
});
