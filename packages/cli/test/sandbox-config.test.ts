import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { makeRepo, makeTempHome, runWm, type TempHome } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const OWNER = { uid: 1000, gid: 1000 };

interface Setup {
  home: TempHome;
  wt: string;
  run(script: string, env?: NodeJS.ProcessEnv): ReturnType<typeof runWm>;
}

async function setup(config: string): Promise<Setup> {
  const home = await makeTempHome();
  await fs.mkdir(home.configDir, { recursive: true });
  await fs.writeFile(
    path.join(home.configDir, "config.yaml"),
    config.replaceAll("$ROOT", home.root),
  );
  const repo = await makeRepo(path.join(home.root, "src"), ["cfg"], OWNER);
  const wt = repo.worktrees.cfg as string;
  const built = await runWm(["sandbox", "build", "--agent", "demo"], {
    env: home.env,
    timeoutMs: 300_000,
  });
  expect(built.code, built.stderr).toBe(0);
  return {
    home,
    wt,
    run: (script, env = {}) =>
      runWm(["sandbox", "run", "--worktree", wt, "--", "sh", "-c", script], {
        env: { ...home.env, ...env },
        timeoutMs: 60_000,
      }),
  };
}

async function teardown(s: Setup | undefined): Promise<void> {
  if (!s) return;
  await runWm(["daemon", "stop"], { env: s.home.env }).catch(() => undefined);
  await s.home.cleanup();
}

describe("sandbox settings from the global config", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup(
      [
        "agent: demo",
        "sandbox:",
        "  env_passthrough: [GITHUB_TOKEN, WM_TEST_PASSED]",
        "  extra_mounts:",
        "    - $ROOT/shared-ro",
        "    - { host_path: $ROOT/shared-rw, guest_path: /data, writable: true }",
        "  container:",
        "    memory: 256M",
        "    cpus: 1",
        "    pids_limit: 64",
        "",
      ].join("\n"),
    );
    await fs.mkdir(path.join(s.home.root, "shared-ro"), { recursive: true });
    await fs.mkdir(path.join(s.home.root, "shared-rw"), { recursive: true });
  }, 320_000);
  afterAll(() => teardown(s));

  it("passes only the named variables through", async () => {
    const res = await s.run(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell default, expanded inside the sandbox
      "echo gh=$GITHUB_TOKEN passed=$WM_TEST_PASSED secret=${AWS_SECRET_ACCESS_KEY:-unset} guest=$WM_SANDBOX_GUEST",
      {
        GITHUB_TOKEN: "gh-value",
        WM_TEST_PASSED: "yes",
        AWS_SECRET_ACCESS_KEY: "must-not-cross",
      },
    );
    expect(res.stdout.trim()).toBe("gh=gh-value passed=yes secret=unset guest=1");
  });

  it("applies memory, cpu and pids limits", async () => {
    const res = await s.run(
      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max",
    );
    const [memory, pids] = res.stdout.trim().split("\n");
    expect(Number(memory)).toBe(256 * 1024 * 1024);
    expect(pids).toBe("64");
  });

  it("mounts extra_mounts read-only unless writable", async () => {
    await fs.writeFile(path.join(s.home.root, "shared-ro", "f"), "ro\n");
    await fs.chown(path.join(s.home.root, "shared-rw"), OWNER.uid, OWNER.gid);
    const res = await s.run(
      `cat ${s.home.root}/shared-ro/f; touch ${s.home.root}/shared-ro/x 2>/dev/null || echo ro-refused; touch /data/y && echo rw-ok`,
    );
    expect(res.stdout).toBe("ro\nro-refused\nrw-ok\n");
  });
});

describe("extra_mounts that would hand over secrets", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup("agent: demo\nsandbox:\n  extra_mounts: [$ROOT/.ssh]\n");
    await fs.mkdir(path.join(s.home.root, ".ssh"), { recursive: true });
  }, 320_000);
  afterAll(() => teardown(s));

  it("are refused with the reason, and nothing starts", async () => {
    const res = await s.run("echo should-not-run");
    expect(res.stdout).toBe("");
    expect(res.stderr).toContain(".ssh");
    expect(res.stderr).toContain("holds secrets");
    expect(res.code).not.toBe(0);
  });
});

describe("the same sandbox on Podman", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup("agent: demo\nsandbox:\n  container:\n    runtime: podman\n");
  }, 320_000);
  afterAll(() => teardown(s));

  it("runs the command with its exit code, the shim and the worktree, and nothing of the host", async () => {
    const res = await s.run(
      `wm status set working; wm status; test -e ${s.home.root}/run/daemon.sock || echo no-host-api; test -e /run/podman/podman.sock || echo no-engine; id -u; exit 4`,
    );
    expect(res.stderr).toBe("");
    expect(res.stdout).toBe("working\nno-host-api\nno-engine\n1000\n");
    expect(res.code).toBe(4);
    const log = await fs.readFile(s.home.logFile, "utf8");
    expect(log).toMatch(/"runtime":"podman"/);
    // Removed; what remains of the worktree is at most its next run, prepared at its gate.
    const ids = (...labels: string[]) =>
      execFileSync(
        "podman",
        ["ps", "-a", "-q", ...labels.flatMap((l) => ["--filter", `label=${l}`])],
        { encoding: "utf8" },
      )
        .split("\n")
        .filter(Boolean);
    const prepared = new Set(ids(`wm.worktree=${s.wt}`, "wm.prepared=1"));
    expect(ids(`wm.worktree=${s.wt}`).filter((id) => !prepared.has(id))).toEqual([]);
  });
});

describe("sandbox.agent_config_dir", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup("agent: demo\nsandbox:\n  agent_config_dir: $ROOT/agent-config/{agent}\n");
    const dir = path.join(s.home.root, "agent-config", "demo");
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, "marker"), "host-config\n");
    await fs.chown(dir, OWNER.uid, OWNER.gid);
  }, 320_000);
  afterAll(() => teardown(s));

  it("mounts the named directory as the agent's ~/.claude, read-write (control: by default wm's own directory is there)", async () => {
    const res = await s.run(
      "cat /home/agent/.claude/marker; echo dir=$CLAUDE_CONFIG_DIR; touch /home/agent/.claude/from-sandbox && echo wrote",
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe("host-config\ndir=/home/agent/.claude\nwrote\n");
    await fs.stat(path.join(s.home.root, "agent-config", "demo", "from-sandbox"));

    const plain = await setup("agent: demo\n");
    try {
      const control = await plain.run("cat /home/agent/.claude/marker 2>/dev/null || echo absent");
      expect(control.stdout).toBe("absent\n");
      await fs.stat(path.join(plain.home.root, ".claude-sandbox"));
    } finally {
      await teardown(plain);
    }
  });

  it("refuses a directory that holds other secrets, naming the key", async () => {
    await fs.mkdir(path.join(s.home.root, ".ssh"), { recursive: true });
    await fs.writeFile(
      path.join(s.home.configDir, "config.yaml"),
      `agent: demo\nsandbox:\n  agent_config_dir: ${s.home.root}/.ssh\n`,
    );
    const res = await s.run("true");
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("sandbox.agent_config_dir");
    expect(res.stderr).toContain(".ssh");
  });
});
