import { makeSandboxHome, runWm, type SandboxHome } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const STARTS = 8;

let bench: SandboxHome;
beforeAll(async () => {
  bench = await makeSandboxHome({ branches: ["feature-a"] });
}, 320_000);

afterAll(() => bench.cleanup());

describe("concurrent cold starts", () => {
  it(`${STARTS} sandboxes started at once on a fresh daemon, in one worktree, all run`, async () => {
    const wt = bench.repo.worktrees["feature-a"] as string;
    // No daemon runs yet and nothing is prepared: the shim runtime and the worktree's git shadow
    // are made by whichever start comes first, while the others wait for it.
    const results = await Promise.all(
      Array.from({ length: STARTS }, (_, i) =>
        runWm(["sandbox", "run", "--worktree", wt, "--", "sh", "-c", `echo started-${i}`], {
          env: bench.home.env,
          timeoutMs: 120_000,
        }),
      ),
    );
    results.forEach((res, i) => {
      expect(res.stderr, `start ${i}`).toBe("");
      expect(res.code, `start ${i}`).toBe(0);
      expect(res.stdout).toBe(`started-${i}\n`);
    });
  }, 180_000);
});
