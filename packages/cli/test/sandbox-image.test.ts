import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeSandboxHome, runWm, type SandboxHome, type TempHome } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let home: TempHome;
let wt: string;
const tag = `wm-test-custom-${process.pid}`;

let bench: SandboxHome;
beforeAll(async () => {
  bench = await makeSandboxHome({ branches: ["img"] });
  home = bench.home;
  wt = bench.repo.worktrees.img as string;
}, 320_000);

afterAll(async () => {
  execFileSync("docker", ["rmi", "-f", tag, "wm-sandbox:staletest"], { stdio: "ignore" });
  await bench.cleanup();
});

describe("sandbox images", () => {
  it("a missing image is reported with the command that builds it", async () => {
    const res = await runWm(
      ["sandbox", "run", "--agent", "nosuch", "--worktree", wt, "--", "true"],
      { env: home.env },
    );
    expect(res.code).toBe(3);
    expect(res.stderr).toContain("wm-sandbox:nosuch does not exist");
    expect(res.stderr).toContain("wm sandbox build --agent nosuch");
  });

  it("a stale image (older recipe) is refused with the rebuild command", async () => {
    const dir = path.join(home.root, "stale");
    await fs.mkdir(dir);
    await fs.writeFile(
      path.join(dir, "Dockerfile"),
      "FROM wm-sandbox:demo\nLABEL wm.image.version=0\n",
    );
    execFileSync("docker", ["build", "-q", "-t", "wm-sandbox:staletest", dir], {
      stdio: "ignore",
      env: { ...process.env, DOCKER_BUILDKIT: "0" },
    });
    const res = await runWm(
      ["sandbox", "run", "--agent", "staletest", "--worktree", wt, "--", "true"],
      { env: home.env },
    );
    expect(res.code).toBe(3);
    expect(res.stderr).toContain("image version 0");
    expect(res.stderr).toContain("wm sandbox build --agent staletest");
  });

  it("init-dockerfile writes a Dockerfile, refuses to overwrite it, and a custom image from it is used", async () => {
    const dir = path.join(home.root, "custom");
    await fs.mkdir(dir);
    const first = await runWm(["sandbox", "init-dockerfile", "--dir", dir, "--agent", "demo"], {
      env: home.env,
    });
    expect(first.code, first.stderr).toBe(0);
    const again = await runWm(["sandbox", "init-dockerfile", "--dir", dir], { env: home.env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists; pass --force");
    await fs.appendFile(path.join(dir, "Dockerfile"), "RUN touch /custom-marker\n");
    execFileSync("docker", ["build", "-q", "-t", tag, dir], {
      stdio: "ignore",
      env: { ...process.env, DOCKER_BUILDKIT: "0" },
    });
    await fs.writeFile(
      path.join(home.configDir, "config.yaml"),
      `agent: demo\nsandbox:\n  image: ${tag}\n`,
    );
    const res = await runWm(
      [
        "sandbox",
        "run",
        "--worktree",
        wt,
        "--",
        "sh",
        "-c",
        "test -e /custom-marker && wm status set done && echo custom",
      ],
      {
        env: home.env,
      },
    );
    expect(res.stderr).toBe("");
    expect(res.stdout).toBe("custom\n");
    await fs.writeFile(path.join(home.configDir, "config.yaml"), "agent: demo\n");
  });

  it("the claude agent image runs Claude Code, with the sandbox's own credentials as ~/.claude*", async () => {
    const env = { ...home.env, XDG_CACHE_HOME: path.join(os.homedir(), ".cache") };
    const built = await runWm(["sandbox", "build", "--agent", "claude"], {
      env,
      timeoutMs: 600_000,
    });
    expect(built.code, built.stderr).toBe(0);
    const res = await runWm(
      [
        "sandbox",
        "run",
        "--agent",
        "claude",
        "--worktree",
        wt,
        "--",
        "sh",
        "-c",
        "claude --version; cat ~/.claude.json; test -d ~/.claude && echo has-claude-dir",
      ],
      { env },
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/\d+\.\d+\.\d+ \(Claude Code\)/);
    expect(res.stdout).toContain('"hasCompletedOnboarding": true');
    expect(res.stdout).toContain("has-claude-dir");
    const seeded = await fs.readFile(path.join(home.root, ".claude-sandbox.json"), "utf8");
    expect(JSON.parse(seeded)).toEqual({ hasCompletedOnboarding: true });
  }, 660_000);

  it("wm doctor reports the base and sandbox images", async () => {
    const res = await runWm(["doctor", "--json"], { env: home.env });
    const checks = JSON.parse(res.stdout).checks as Array<{ name: string; status: string }>;
    expect(checks.find((c) => c.name === "docker base image")?.status).toBe("ok");
    expect(checks.find((c) => c.name === "docker sandbox image")?.status).toBe("ok");
  });
});
