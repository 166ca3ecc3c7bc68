import { promises as fs } from "node:fs";
import path from "node:path";
import type { DoctorCheck } from "@wm/protocol";
import { makeTempHome, runWm, type TempHome } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("wm doctor and sandbox.host_commands", () => {
  let home: TempHome;
  beforeAll(async () => {
    home = await makeTempHome();
    await fs.mkdir(home.configDir, { recursive: true });
    await fs.writeFile(
      path.join(home.configDir, "config.yaml"),
      "sandbox:\n  host_commands: [git, no-such-tool-wm]\n",
    );
  });
  afterAll(async () => {
    await runWm(["daemon", "stop"], { env: home.env }).catch(() => undefined);
    await home.cleanup();
  });

  it("lists each configured host command as found (with its path) or missing, and bubblewrap", async () => {
    const res = await runWm(["doctor", "--json"], { env: home.env, timeoutMs: 60_000 });
    const checks = (JSON.parse(res.stdout) as { checks: DoctorCheck[] }).checks;
    const byName = (name: string) => checks.find((c) => c.name === name);
    expect(byName("host command git")).toMatchObject({
      status: "ok",
      detail: expect.stringMatching(/^git is \/.*\/git$/),
    });
    expect(byName("host command no-such-tool-wm")).toMatchObject({
      status: "warn",
      detail: expect.stringContaining("is listed in sandbox.host_commands but is not found"),
      fix: expect.stringContaining("remove it from sandbox.host_commands"),
    });
    expect(byName("bubblewrap")).toBeDefined();
  });
});
