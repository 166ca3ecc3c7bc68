import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigFiles } from "./file-cache.ts";
import { loadConfigFile, MAX_CONFIG_BYTES, type Problems } from "./load-file.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "wm-config-size-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const role = { kind: "project" as const, globalFile: "/nonexistent/config.yaml" };
const fresh = (): Problems => ({ errors: [], warnings: [] });
// What is read, not where it is parsed, is the point here: every size is parsed in this thread.
const files = () => new ConfigFiles({ inThreadBytes: Number.POSITIVE_INFINITY });

describe("loadConfigFile bounds what it reads", () => {
  it("reads a project file at the limit, refuses one past it with its size and the limit", async () => {
    const file = path.join(dir, ".workmux.yaml");
    const line = "# padding padding padding padding padding padding padding padding\n";
    const body = "post_create: [echo hi]\n";
    const fill = (bytes: number) =>
      body + line.repeat(Math.floor((bytes - body.length) / line.length));
    await writeFile(file, fill(MAX_CONFIG_BYTES));
    const ok = fresh();
    expect(await loadConfigFile(file, role, ok, files())).toBeDefined();
    expect(ok.errors).toEqual([]);

    await writeFile(file, fill(30 * MAX_CONFIG_BYTES));
    const big = fresh();
    expect(await loadConfigFile(file, role, big, files())).toBeUndefined();
    expect(big.errors).toHaveLength(1);
    expect(big.errors[0]?.file).toBe(file);
    expect(big.errors[0]?.message).toMatch(/is \d+ bytes; wm reads config files of up to 1048576/);
  });

  it("refuses a FIFO without blocking on it", async () => {
    const fifo = path.join(dir, ".workmux.yaml");
    execFileSync("mkfifo", [fifo]);
    const problems = fresh();
    expect(await loadConfigFile(fifo, role, problems, files())).toBeUndefined();
    expect(problems.errors[0]?.message).toContain("not a regular file");
  });

  it("refuses an alias bomb, naming the file", async () => {
    const file = path.join(dir, ".workmux.yaml");
    const levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i < 10; i++) {
      levels.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(", ")}]`,
      );
    }
    await writeFile(file, `${levels.join("\n")}\n`);
    const problems = fresh();
    expect(await loadConfigFile(file, role, problems, files())).toBeUndefined();
    expect(problems.errors).toEqual([
      expect.objectContaining({
        file,
        message: expect.stringMatching(/aliases \(\*name\) expand to too much data/),
      }),
    ]);
  });
});
