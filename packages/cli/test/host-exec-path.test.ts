import { spawn, spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import {
  makeSandboxHome,
  runWm,
  type SandboxHome,
  startSandboxClient,
  waitForRunningSandbox,
} from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** How host commands are found and allowed inside a real sandbox. */
let bench: SandboxHome;
let worktree: string;
let container: string;
const globalFile = () => path.join(bench.home.configDir, "config.yaml");
const GLOBAL = "agent: demo\nsandbox:\n  host_commands: [cat, uname, sleep, no-such-tool-wm]\n";

beforeAll(async () => {
  bench = await makeSandboxHome({
    config: GLOBAL,
    branches: ["alpha"],
    env: { WM_HOST_EXEC_MAX: "2" },
  });
  worktree = bench.repo.worktrees.alpha as string;
  // By full path: `sleep` is a host command here, and the sandbox must not hold one of its slots.
  const client = startSandboxClient(bench.home.env, worktree, "/bin/sleep 600");
  client.child.unref();
  const s = await waitForRunningSandbox(bench.home.env, (x) => x.name === "alpha");
  container = s.containerId as string;
}, 320_000);
afterAll(() => bench.cleanup());

function inside(command: string[]) {
  const r = spawnSync(
    "docker",
    ["exec", "-u", "1000:1000", "-w", worktree, container, ...command],
    { encoding: "utf8" },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("each listed name is on PATH ahead of the image's own", () => {
  it("for the agent's own commands (the container's PATH)", () => {
    const r = inside(["/bin/sh", "-c", "command -v cat; command -v uname; command -v ls"]);
    expect(r.out.split("\n")).toEqual([
      "/run/wm/host-bin/cat",
      "/run/wm/host-bin/uname",
      "/usr/bin/ls",
      "",
    ]);
  });

  it("in login shells, whose /etc/profile rebuilds PATH", () => {
    const r = inside(["bash", "-lc", "command -v cat"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe("/run/wm/host-bin/cat");
  });

  it("and it runs on the host: the host's kernel name and node name, not the container's", () => {
    const host = spawnSync("uname", ["-n"], { encoding: "utf8" }).stdout;
    const r = inside(["/bin/sh", "-c", "uname -n; /usr/bin/uname -n"]);
    const [viaHost, local] = r.out.split("\n");
    expect(`${viaHost}\n`).toBe(host);
    expect(local).not.toBe(viaHost);
  });
});

describe("names that may not run", () => {
  it("a listed name the host does not have: 127, saying so", () => {
    const r = inside(["/opt/wm/bin/wm", "host-exec", "no-such-tool-wm"]);
    expect(r.code).toBe(127);
    expect(r.err).toContain(
      "no-such-tool-wm: listed in sandbox.host_commands but not found on the host",
    );
  });

  it("a name listed only in the project's .workmux.yaml is not allowed (global file only)", async () => {
    const project = path.join(bench.repo.main, ".workmux.yaml");
    await fs.writeFile(project, "sandbox:\n  host_commands: [ls]\n");
    try {
      const r = inside(["/opt/wm/bin/wm", "host-exec", "ls"]);
      expect(r.code).toBe(127);
      expect(r.err).toContain(
        `ls: not a host command of this sandbox; to allow it, add it to sandbox.host_commands in ${globalFile()}`,
      );
    } finally {
      await fs.rm(project);
    }
  });

  it("the global file is read at each call: a name added or removed applies at once", async () => {
    await fs.writeFile(
      globalFile(),
      "agent: demo\nsandbox:\n  host_commands: [cat, uname, no-such-tool-wm, ls]\n",
    );
    try {
      const added = inside(["/opt/wm/bin/wm", "host-exec", "ls", "-d", worktree]);
      expect(added.code, added.err).toBe(0);
      expect(added.out.trim()).toBe(worktree);
      await fs.writeFile(globalFile(), "agent: demo\nsandbox:\n  host_commands: [uname]\n");
      const removed = inside(["/opt/wm/bin/wm", "host-exec", "cat", "/etc/hostname"]);
      expect(removed.code).toBe(127);
      expect(removed.err).toContain("cat: not a host command of this sandbox");
    } finally {
      await fs.writeFile(globalFile(), GLOBAL);
    }
  });
});

describe("limits and the audit trail", () => {
  it("runs at most WM_HOST_EXEC_MAX host commands at once per sandbox, refusing the next", async () => {
    // Two host commands that run until the test ends them; a third is refused meanwhile.
    const waiter = `/opt/wm/bin/wm host-exec sleep 2718 & /opt/wm/bin/wm host-exec sleep 2718 & wait`;
    const busy = spawn("docker", [
      "exec",
      "-u",
      "1000:1000",
      "-w",
      worktree,
      container,
      "/bin/sh",
      "-c",
      waiter,
    ]);
    try {
      await waitFor(() => countSleeps("2718") === 2);
      const r = inside(["/opt/wm/bin/wm", "host-exec", "uname"]);
      expect(r.code).toBe(126);
      expect(r.err).toContain("this sandbox already runs 2 host commands");
    } finally {
      busy.kill("SIGKILL");
      for (const pid of sleepsOf("2718")) process.kill(pid, "SIGKILL");
      await waitFor(() => countSleeps("2718") === 0);
    }
    expect(inside(["/opt/wm/bin/wm", "host-exec", "uname"]).code).toBe(0);
  });

  it("wm sandbox logs NAME --exec shows one line per host command, and only those", async () => {
    const marker = `audit-${process.pid}`;
    expect(inside(["/opt/wm/bin/wm", "host-exec", "uname", "-a"]).code).toBe(0);
    inside(["/opt/wm/bin/wm", "host-exec", "cat", marker]);
    const res = await runWm(["sandbox", "logs", "alpha", "--exec", "--json", "-n", "200"], {
      env: bench.home.env,
    });
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.every((l) => l.msg === "host exec" || l.msg === "host exec refused")).toBe(true);
    const mine = lines.filter((l) => JSON.stringify(l.argv ?? []).includes(marker));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      command: "cat",
      argv: ["cat", marker],
      cwd: worktree,
      exit: 1,
    });
    const text = await runWm(["sandbox", "logs", "alpha", "--exec"], { env: bench.home.env });
    expect(text.stdout).toContain(`host exec  sandbox=`);
    expect(text.stdout).toContain(`command=uname`);
  });
});

/** Host processes named `sleep` (the tool itself, not the in-sandbox client) with this argument. */
function sleepsOf(arg: string): number[] {
  const r = spawnSync("pgrep", ["-a", "-x", "sleep"], { encoding: "utf8" });
  return r.stdout
    .split("\n")
    .filter((l) => l.endsWith(` ${arg}`))
    .map((l) => Number(l.split(" ")[0]));
}

function countSleeps(arg: string): number {
  return sleepsOf(arg).length;
}

async function waitFor(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 50));
}
