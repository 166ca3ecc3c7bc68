import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { RpcError } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkCommandName, resolveHostCwd } from "./cwd.ts";

async function refusal(p: Promise<unknown>): Promise<RpcError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RpcError);
  return err as RpcError;
}

describe("resolveHostCwd", () => {
  let root: string;
  let wt: string;
  beforeAll(async () => {
    root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "wm-cwd-")));
    wt = path.join(root, "wt");
    await fs.mkdir(path.join(wt, "src", "deep"), { recursive: true });
    await fs.mkdir(path.join(root, "outside"));
    await fs.mkdir(path.join(root, "wt-sibling"));
    await fs.writeFile(path.join(wt, "file.txt"), "x");
    await fs.symlink(path.join(root, "outside"), path.join(wt, "escape"));
    await fs.symlink("src/deep", path.join(wt, "inner-link"));
    await fs.symlink(root, path.join(root, "alias"));
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it("accepts the worktree and directories inside it, resolved", async () => {
    expect(await resolveHostCwd(wt, wt)).toBe(wt);
    expect(await resolveHostCwd(wt, path.join(wt, "src", "deep"))).toBe(path.join(wt, "src/deep"));
    expect(await resolveHostCwd(wt, path.join(wt, "inner-link"))).toBe(path.join(wt, "src/deep"));
    expect(await resolveHostCwd(wt, `${wt}/src/../src/`)).toBe(path.join(wt, "src"));
    // The worktree given through a symlinked path is the same worktree.
    expect(await resolveHostCwd(path.join(root, "alias", "wt"), path.join(wt, "src"))).toBe(
      path.join(wt, "src"),
    );
  });

  it("refuses a directory outside the worktree, also through a symlink or ..", async () => {
    const out = await refusal(resolveHostCwd(wt, path.join(wt, "escape")));
    expect(out.is("Refused")).toBe(true);
    expect(out.message).toContain("is outside this sandbox's worktree");
    expect(out.message).toContain(`resolves to ${path.join(root, "outside")}`);
    for (const p of [root, "/", path.join(wt, ".."), path.join(root, "wt-sibling")]) {
      expect((await refusal(resolveHostCwd(wt, p))).is("Refused")).toBe(true);
    }
  });

  it("gives a clear error for a relative, missing or non-directory cwd", async () => {
    const rel = await refusal(resolveHostCwd(wt, "src"));
    expect(rel.is("InvalidParams")).toBe(true);
    expect(rel.message).toContain("not an absolute path");
    const missing = await refusal(resolveHostCwd(wt, path.join(wt, "nope")));
    expect(missing.is("InvalidParams")).toBe(true);
    expect(missing.message).toContain("ENOENT");
    expect(missing.message).toContain("must be an existing directory inside the worktree");
    const file = await refusal(resolveHostCwd(wt, path.join(wt, "file.txt")));
    expect(file.message).toContain("is not a directory");
    expect((await refusal(resolveHostCwd(wt, `${wt}\0/x`))).is("InvalidParams")).toBe(true);
  });
});

describe("checkCommandName", () => {
  it("accepts plain command names", () => {
    for (const name of ["just", "cargo", "npm", "python3.11", "x_y-z", "a".repeat(64)]) {
      expect(() => checkCommandName(name)).not.toThrow();
    }
  });

  it("refuses paths, empty and odd names", () => {
    for (const name of [
      "../x",
      "a/b",
      "/usr/bin/cargo",
      "",
      ".hidden",
      "-rf",
      "a b",
      "a".repeat(65),
      "x\0",
    ]) {
      let err: unknown;
      try {
        checkCommandName(name);
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(RpcError);
      expect((err as RpcError).is("InvalidParams")).toBe(true);
      expect((err as RpcError).message).toContain("is not a command name");
    }
  });
});
