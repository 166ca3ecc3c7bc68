// The in-sandbox `wm` as its runtime directory (/opt/wm) runs it in a real container: the one
// CommonJS bundle started through bin/wm, one HTTP call to the daemon per command.
import { makeSandboxHome, runWm, type SandboxHome } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let bench: SandboxHome;
let wt: string;
beforeAll(async () => {
  bench = await makeSandboxHome({ branches: ["shim"], owner: { uid: 1000, gid: 1000 } });
  wt = bench.repo.worktrees.shim as string;
}, 320_000);

afterAll(() => bench.cleanup());

const inSandbox = (script: string) =>
  runWm(["sandbox", "run", "--worktree", wt, "--", "sh", "-c", script], {
    env: bench.home.env,
    timeoutMs: 60_000,
  });

describe("the shim in a container", () => {
  it("answers --help and --version, and status set reaches the daemon", async () => {
    const res = await inSandbox(
      "wm --help | head -1 && wm --version && wm status set waiting && wm status && ls /opt/wm",
    );
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const lines = res.stdout.split("\n");
    expect(lines[0]).toMatch(/^wm \(inside a sandbox\) /);
    expect(lines[1]).toMatch(/^wm .* \(sandbox shim\)$/);
    expect(lines[2]).toBe("waiting");
    // The runtime carries the bundle as CommonJS: no package.json of the image can make it ESM.
    expect(lines.slice(3)).toContain("wm-shim.cjs");
  });

  it("runs with none of the caller's Node settings (a --require hook, a CA bundle)", async () => {
    const res = await inSandbox(
      "NODE_OPTIONS='--require /nonexistent/hook.js' NODE_EXTRA_CA_CERTS=/nonexistent/ca.pem wm status set working && wm status",
    );
    expect(res.stderr).toBe("");
    expect(res.stdout).toBe("working\n");
    expect(res.code).toBe(0);
  });
});
