import { execFile } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildProgress, MountSpec } from "../src/backends/types.ts";
import { buildSandboxImage } from "../src/images/build-sandbox-image.ts";
import { packContext } from "../src/images/tar-pack.ts";
import { BASE, containerFixture } from "./container-fixture.ts";

const run = promisify(execFile);
const f = containerFixture("docker", "images");
const { backend } = f;
const none = `wm-test-${f.tag}:none`;
const demo = `wm-test-${f.tag}:demo`;
const noop = () => {};

beforeAll(() => f.setup(), 300_000);
afterAll(() => f.cleanup());

/** A repository the container's UID may write, and a stand-in shim that logs its arguments. */
async function demoWorld() {
  const repo = path.join(f.tmp, "repo");
  const shim = path.join(f.tmp, "shim");
  const calls = path.join(f.tmp, "calls");
  await mkdir(path.join(shim, "bin"), { recursive: true });
  await mkdir(calls);
  await writeFile(path.join(shim, "bin", "wm"), '#!/bin/sh\necho "$*" >> /calls/log\n', {
    mode: 0o755,
  });
  await run("git", ["init", "-q", "-b", "main", repo]);
  const ident = ["-c", "user.name=t", "-c", "user.email=t@t"];
  await run("git", ["-C", repo, ...ident, "commit", "-q", "--allow-empty", "-m", "init"]);
  await run("chmod", ["-R", "a+rwX", repo, calls]);
  await chmod(f.tmp, 0o755);
  const mounts: MountSpec[] = [
    { source: repo, target: repo, readOnly: false },
    { source: shim, target: "/opt/wm", readOnly: true },
    { source: calls, target: "/calls", readOnly: false },
  ];
  return { repo, calls, mounts };
}

describe("sandbox images", () => {
  it("builds the none image with progress lines and wm labels", async () => {
    const lines: BuildProgress[] = [];
    const built = await buildSandboxImage({
      backend,
      agent: "none",
      tag: none,
      extraLabels: f.labels,
      onProgress: (p) => lines.push(p),
    });
    expect(built.image).toBe(none);
    expect(lines.some((p) => /^Step 1\/\d+ : FROM wm-base:bookworm$/.test(p.line ?? ""))).toBe(
      true,
    );
    expect(lines.some((p) => /Successfully tagged/.test(p.line ?? ""))).toBe(true);
    expect((await backend.inspectImage(none))?.labels).toMatchObject({
      "wm.image": "sandbox",
      "wm.agent": "none",
      "wm.image.version": "1",
      "wm.protocol": "1",
      "wm.version": expect.any(String),
    });
  });

  it("gives a UID without a passwd entry a HOME, the shim's PATH and a git that trusts it", async () => {
    const script = [
      'echo "guest=$WM_SANDBOX_GUEST home=$HOME path=$PATH"',
      "stat -c %a /home/agent",
      "test -d /opt/wm/bin && echo opt-wm",
      "touch ~/x && echo home-writable",
      "git config --system safe.directory",
    ].join("; ");
    const r = await f.runToEnd({ image: none, cmd: ["sh", "-c", script] });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("guest=1 home=/home/agent path=/opt/wm/bin:");
    expect(r.stdout).toMatch(/^1777$/m);
    expect(r.stdout).toContain("opt-wm\nhome-writable\n*\n");
  });

  it("builds the demo agent, which edits, commits and reports its status through the shim", async () => {
    const lines: BuildProgress[] = [];
    const onProgress = (p: BuildProgress) => lines.push(p);
    await buildSandboxImage({
      backend,
      agent: "demo",
      tag: demo,
      extraLabels: f.labels,
      onProgress,
    });
    expect(lines.filter((p) => p.line?.startsWith("Step")).length).toBeGreaterThan(3);

    const { repo, calls, mounts } = await demoWorld();
    const env = { WM_DEMO_DELAY: "0" };
    const r = await f.runToEnd({ image: demo, cmd: ["wm-demo-agent"], workdir: repo, mounts, env });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const log = await readFile(path.join(calls, "log"), "utf8");
    expect(log).toBe("status set working\nstatus set done\n");
    const head = await run("git", ["-C", repo, "log", "--format=%s|%an", "-1"]);
    expect(head.stdout.trim()).toBe("demo: update wm-demo.md|wm demo agent");
    const edited = await readFile(path.join(repo, "wm-demo.md"), "utf8");
    expect(edited).toMatch(/edited by the wm demo agent in repo/);

    const alone = mounts.slice(0, 1);
    const noShim = await f.runToEnd({
      image: demo,
      cmd: ["wm-demo-agent"],
      workdir: repo,
      mounts: alone,
      env,
    });
    expect(noShim.exitCode).toBe(2);
    expect(noShim.stderr).toContain("could not set status 'working'");
  });

  it("refuses an unknown agent and a missing base, saying what to do", async () => {
    await expect(buildSandboxImage({ backend, agent: "codex", onProgress: noop })).rejects.toThrow(
      "known agents: claude, demo, none",
    );
    const base = "wm-base:wmtest-none";
    await expect(
      buildSandboxImage({
        backend,
        agent: "none",
        base,
        tag: `wm-test-${f.tag}:x`,
        onProgress: noop,
      }),
    ).rejects.toThrow(`build it with \`sudo bash scripts/build-base-image.sh --name ${base}\``);
  });

  it("surfaces a failing build step as an error with the builder's message", async () => {
    const data = `FROM ${BASE}\nRUN exit 42\n`;
    const context = packContext([{ name: "Dockerfile", mode: 0o644, data }]);
    const lines: BuildProgress[] = [];
    const tag = `wm-test-${f.tag}:fails`;
    await expect(
      backend.buildImage(context, { tag, labels: f.labels, onProgress: (p) => lines.push(p) }),
    ).rejects.toThrow(
      new RegExp(`^docker: cannot build image ${tag}: .*returned a non-zero code: 42`),
    );
    expect(lines.at(-1)?.error).toMatch(/non-zero code: 42/);
  });
});

describe("claude image (downloads Claude Code's native package from npm once; cached in ~/.cache/wm)", () => {
  it("installs Claude Code's native binary without Node, and it runs", async () => {
    const tag = `wm-test-${f.tag}:claude`;
    const lines: BuildProgress[] = [];
    const built = await buildSandboxImage({
      backend,
      agent: "claude",
      tag,
      extraLabels: f.labels,
      onProgress: (p) => lines.push(p),
    });
    const version = built.labels["wm.agent.version"] ?? "";
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(lines.some((p) => /npm pack|using cached/.test(p.line ?? ""))).toBe(true);
    const cmd = ["sh", "-c", "claude --version; command -v node || echo no-node"];
    const r = await f.runToEnd({ image: tag, cmd });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`${version} (Claude Code)`);
    expect(r.stdout).toContain("no-node");
  }, 600_000);
});
