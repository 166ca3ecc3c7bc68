import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkHostCommands } from "./host-commands.ts";

describe("checkHostCommands", () => {
  let bin: string;
  beforeAll(async () => {
    bin = await fs.mkdtemp(path.join(os.tmpdir(), "wm-hostcmd-"));
    await fs.writeFile(path.join(bin, "just"), "#!/bin/sh\n", { mode: 0o755 });
    await fs.writeFile(path.join(bin, "not-executable"), "", { mode: 0o644 });
  });
  afterAll(() => fs.rm(bin, { recursive: true, force: true }));

  it("lists each configured command with where it was found, or warns that it is missing", async () => {
    const env = { PATH: bin };
    const checks = await checkHostCommands(["just", "no-such-tool-wm", "not-executable"], env);
    expect(checks[0]).toEqual({
      name: "host command just",
      status: "ok",
      detail: `just is ${path.join(bin, "just")}`,
    });
    for (const check of checks.slice(1)) {
      expect(check.status).toBe("warn");
      expect(check.detail).toContain(
        "is listed in sandbox.host_commands but is not found on the host",
      );
      expect(check.detail).toContain(`PATH of the wm daemon: ${bin}`);
      expect(check.fix).toContain("remove it from sandbox.host_commands");
    }
    expect(checks.map((c) => c.name)).toEqual([
      "host command just",
      "host command no-such-tool-wm",
      "host command not-executable",
    ]);
  });

  it("has nothing to say when no host command is configured", async () => {
    expect(await checkHostCommands([], { PATH: bin })).toEqual([]);
  });
});
