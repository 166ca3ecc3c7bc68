import { makeSandboxHome, runWm, type SandboxHome } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let bench: SandboxHome;
beforeAll(async () => {
  bench = await makeSandboxHome({
    config: "agent: /usr/local/bin/demo --fast\n",
    branches: ["named"],
  });
}, 320_000);

afterAll(() => bench.cleanup());

describe("an agent written as a path with arguments", () => {
  it("runs in the image `wm sandbox build` made, and doctor checks that image", async () => {
    const env = bench.home.env;
    const wt = bench.repo.worktrees.named as string;
    const ran = await runWm(["sandbox", "run", "--worktree", wt, "--", "true"], { env });
    expect(ran.code, ran.stderr).toBe(0);
    const doctor = await runWm(["doctor", "--json"], { env });
    const checks = JSON.parse(doctor.stdout).checks as { name: string; detail?: string }[];
    const names = checks.map((c) => `${c.name} ${c.detail ?? ""}`).join("\n");
    expect(names).toContain("wm-sandbox:demo");
    expect(names).not.toContain("/usr/local/bin");
  });
});
