import { describe, expect, it } from "vitest";
import { probeEngineVersion } from "../backends/docker/engine-probe.ts";
import { fakeHost } from "./fake-host.ts";
import { runDoctor } from "./index.ts";

const NAMES = ["docker", "podman", "tmux", "git", "bubblewrap", "qemu", "debootstrap"];

describe("runDoctor", () => {
  it("runs every check concurrently", async () => {
    const host = fakeHost({
      execDelayMs: 400,
      binaries: {
        tmux: "tmux 3.3a",
        git: "git version 2.39.5",
        bwrap: "bubblewrap 0.8.0",
        "qemu-system-x86_64": "QEMU emulator version 7.2.19",
        debootstrap: "debootstrap 1.0.128",
      },
    });
    const started = Date.now();
    const checks = await runDoctor(host);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(checks.map((c) => c.name)).toEqual(NAMES);
  });

  it("reports a hung check instead of waiting for it", async () => {
    const host = {
      ...fakeHost({}),
      timeoutMs: 100,
      engineVersion: () => new Promise<never>(() => {}),
    };
    const started = Date.now();
    const checks = await runDoctor(host);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(checks[0]).toMatchObject({ name: "docker", status: "fail" });
    expect(checks[0]?.detail).toContain("did not finish");
  });

  it("turns a crashing check into a result", async () => {
    const host = {
      ...fakeHost({}),
      which: async () => {
        throw new Error("boom");
      },
    };
    const checks = await runDoctor(host);
    expect(checks.find((c) => c.name === "tmux")).toMatchObject({
      status: "fail",
      detail: "the check failed: boom",
    });
  });

  it("checks this machine", { timeout: 15_000 }, async () => {
    const started = Date.now();
    const checks = await runDoctor({
      env: process.env,
      platform: process.platform,
      engineVersion: probeEngineVersion,
    });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(checks.map((c) => c.name)).toEqual(NAMES);
    for (const c of checks) {
      expect(["ok", "warn", "fail"]).toContain(c.status);
      expect(c.detail.length).toBeGreaterThan(0);
      if (c.status !== "ok") expect(c.fix).toBeTruthy();
    }
    expect(checks.find((c) => c.name === "tmux")?.status).toBe("ok");
    expect(checks.find((c) => c.name === "git")?.status).toBe("ok");
  });
});
