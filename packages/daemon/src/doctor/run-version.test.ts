import { describe, expect, it } from "vitest";
import { fakeHost } from "./fake-host.ts";
import { execNoShell, installHint, probeVersion } from "./run-version.ts";

const node = process.execPath;

describe("execNoShell", () => {
  it("runs a program and captures its output", async () => {
    const res = await execNoShell(node, ["--version"], 3000);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^v\d+\./);
  });

  it("passes arguments without a shell", async () => {
    const res = await execNoShell(
      node,
      ["-e", "console.log(process.argv[1])", "$(echo hi);ls"],
      3000,
    );
    expect(res.stdout.trim()).toBe("$(echo hi);ls");
  });

  it("reports a missing program", async () => {
    const res = await execNoShell("/nonexistent/wm-tool", ["--version"], 3000);
    expect(res.error).toBe("ENOENT");
  });

  it("reports a non-zero exit code", async () => {
    const res = await execNoShell(node, ["-e", "process.exit(3)"], 3000);
    expect(res).toMatchObject({ code: 3 });
    expect(res.error).toBeUndefined();
  });

  it("kills a program that outlives the timeout", async () => {
    const started = Date.now();
    const res = await execNoShell(node, ["-e", "setTimeout(() => {}, 20000)"], 300);
    expect(res.error).toBe("timed out after 300 ms");
    expect(Date.now() - started).toBeLessThan(2500);
  });
});

describe("probeVersion", () => {
  const ctx = (binaries: Record<string, string | null>) => fakeHost({ binaries });

  it("returns the first line of the version output", async () => {
    const probe = await probeVersion(ctx({ git: "git version 2.39.5\nmore" }), "git");
    expect(probe).toEqual({
      state: "ok",
      command: "git",
      path: "/fake/bin/git",
      line: "git version 2.39.5",
    });
  });

  it("tells a missing command from a broken one", async () => {
    expect((await probeVersion(ctx({}), "git")).state).toBe("missing");
    const broken = await probeVersion(ctx({ git: null }), "git");
    expect(broken).toMatchObject({ state: "broken" });
    expect(broken.state === "broken" && broken.reason).toMatch(/timed out/);
  });
});

describe("installHint", () => {
  it("uses apt-get on Linux and brew on macOS", () => {
    expect(installHint({ platform: "linux", uid: 1000 }, ["tmux"])).toBe(
      "sudo apt-get install -y tmux (Debian/Ubuntu)",
    );
    expect(installHint({ platform: "linux", uid: 0 }, ["tmux"])).toBe(
      "apt-get install -y tmux (Debian/Ubuntu)",
    );
    expect(installHint({ platform: "darwin", uid: 501 }, ["tmux"])).toBe("brew install tmux");
  });
});
