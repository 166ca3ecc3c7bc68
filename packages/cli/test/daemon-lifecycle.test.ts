import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
  killDaemon,
  makeTempHome,
  runWm,
  startFakeDaemon,
  type TempHome,
  waitForLogLine,
} from "@wm/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let home: TempHome;
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  await home.cleanup();
});

async function registration(): Promise<{
  pid: number;
  socketPath: string;
  version: string;
  protocolVersion: number;
}> {
  return JSON.parse(await fs.readFile(home.registrationFile, "utf8"));
}

/** Pids of live wmd processes whose environment points at this test's runtime dir. */
async function daemonsOfHome(): Promise<number[]> {
  const out = execFileSync("pgrep", ["-f", "wmd.js"], { encoding: "utf8" }).trim();
  const pids: number[] = [];
  for (const pid of out.split("\n").filter(Boolean).map(Number)) {
    const environ = await fs.readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
    if (environ.split("\0").includes(`WM_RUNTIME_DIR=${home.runtimeDir}`)) pids.push(pid);
  }
  return pids;
}

/**
 * The last line a daemon that shuts down writes, once its socket and registration are gone and
 * just before it exits: the daemon is not this test's child, so its exit is no event here.
 */
function stoppedLine(pid: number) {
  return waitForLogLine(home.logFile, (l) => l.msg === "daemon stopped" && l.pid === pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("daemon lifecycle through the CLI", () => {
  it("starts the daemon on first use, owner-only, and registers it", async () => {
    const res = await runWm(["daemon", "start", "--json"], { env: home.env });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const status = JSON.parse(res.stdout);
    const reg = await registration();
    expect(reg.pid).toBe(status.pid);
    expect(reg.socketPath).toBe(home.socketPath);
    expect((await fs.lstat(home.runtimeDir)).mode & 0o777).toBe(0o700);
    expect((await fs.lstat(home.socketPath)).mode & 0o777).toBe(0o600);
    expect((await fs.lstat(home.registrationFile)).mode & 0o777).toBe(0o600);
    expect((await fs.lstat(home.logFile)).mode & 0o777).toBe(0o600);
    const st = await runWm(["daemon", "status"], { env: home.env });
    expect(st.code).toBe(0);
    expect(st.stdout).toContain(`pid        ${status.pid}`);
  });

  it("ten concurrent commands start exactly one daemon", async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => runWm(["daemon", "start", "--json"], { env: home.env })),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const pids = new Set(results.map((r) => JSON.parse(r.stdout).pid));
    expect(pids.size).toBe(1);
    // Racers that lost exit by themselves once they see the winner answering.
    let alive = await daemonsOfHome();
    for (let i = 0; i < 100 && alive.length > 1; i++) {
      await sleep(100);
      alive = await daemonsOfHome();
    }
    expect(alive).toEqual([...pids]);
  });

  it("clients that find no daemon at once spawn one daemon between them, not one each", async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => runWm(["sandbox", "list", "--json"], { env: home.env })),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    // Every daemon process writes a line when it starts, the winner and each loser alike.
    const started = new Set((await fs.readFile(home.logFile, "utf8")).match(/"pid":\d+/g) ?? []);
    expect([...started]).toEqual([`"pid":${(await registration()).pid}`]);
  });

  it("recovers from kill -9: the stale socket is cleaned and a new daemon serves", async () => {
    await runWm(["daemon", "start"], { env: home.env });
    const first = (await registration()).pid;
    expect(await killDaemon(home)).toBe(first);
    expect((await fs.lstat(home.socketPath)).isSocket()).toBe(true);
    const res = await runWm(["daemon", "start", "--json"], { env: home.env });
    expect(res.code, res.stderr).toBe(0);
    const second = JSON.parse(res.stdout).pid;
    expect(second).not.toBe(first);
    expect((await registration()).pid).toBe(second);
    expect(await fs.readFile(home.logFile, "utf8")).toContain("removing stale socket");
  });

  it("stop finishes cleanly and removes socket and registration", async () => {
    await runWm(["daemon", "start"], { env: home.env });
    const pid = (await registration()).pid;
    const res = await runWm(["daemon", "stop"], { env: home.env });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`stopped (pid ${pid})`);
    await stoppedLine(pid);
    await expect(fs.lstat(home.socketPath)).rejects.toThrow(/ENOENT/);
    await expect(fs.lstat(home.registrationFile)).rejects.toThrow(/ENOENT/);
    const again = await runWm(["daemon", "stop"], { env: home.env });
    expect(again.stdout).toContain("no wm daemon was running");
  });

  it("status does not start a daemon and exits 3 when none runs", async () => {
    const res = await runWm(["daemon", "status"], { env: home.env });
    expect(res.code).toBe(3);
    expect(res.stdout).toContain("not running");
    await expect(fs.lstat(home.socketPath)).rejects.toThrow(/ENOENT/);
  });

  it("exits on idle and not before", async () => {
    const env = { ...home.env, WM_DAEMON_IDLE_TIMEOUT: "1" };
    await runWm(["daemon", "start"], { env });
    const pid = (await registration()).pid;
    expect(alive(pid)).toBe(true);
    await stoppedLine(pid);
    await expect(fs.lstat(home.registrationFile)).rejects.toThrow(/ENOENT/);
    expect(await fs.readFile(home.logFile, "utf8")).toContain("idle timeout");
  });

  it("a daemon killed mid-request gives a clear error, and the next call starts a new one", async () => {
    const fake = await startFakeDaemon({ ...home, behaviour: "crash-mid-request" });
    const res = await runWm(["daemon", "start"], { env: home.env });
    expect(fake.requests).toEqual(["daemon.status"]);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain("closed the connection before answering");
    expect(res.stderr).toContain("the next wm command starts a new daemon");
    const next = await runWm(["daemon", "start", "--json"], { env: home.env });
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout).version).toBe("0.1.0");
  });

  it("reports a version mismatch, and `wm daemon restart` fixes it", async () => {
    const fake = await startFakeDaemon({ ...home, behaviour: "old-protocol" });
    const status = await runWm(["daemon", "status"], { env: home.env });
    expect(status.code).toBe(4);
    expect(status.stderr).toContain("the running daemon is wm 0.0.1 (protocol 0)");
    expect(status.stderr).toContain("wm daemon restart");
    const config = await runWm(["config"], { env: home.env, cwd: home.root });
    expect(config.code).toBe(4);
    expect(config.stderr).toContain("wm daemon restart");
    const restart = await runWm(["daemon", "restart"], { env: home.env });
    expect(restart.code, restart.stderr).toBe(0);
    expect(fake.requests).toContain("daemon.shutdown");
    const after = await runWm(["daemon", "status", "--json"], { env: home.env });
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout).protocolVersion).toBe(1);
  });

  it("refuses a socket directory that is too open, and says why", async () => {
    await fs.mkdir(home.runtimeDir, { mode: 0o755 });
    await fs.chmod(home.runtimeDir, 0o755);
    const res = await runWm(["daemon", "start"], {
      env: { ...home.env, WM_START_TIMEOUT_MS: "5000" },
    });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain("could not start the wm daemon");
    expect(res.stderr).toContain("its mode is 0755");
    expect((await fs.lstat(home.runtimeDir)).mode & 0o777).toBe(0o755);
  });

  it("refuses a socket directory owned by someone else", async () => {
    await fs.mkdir(home.runtimeDir, { mode: 0o700 });
    await fs.chown(home.runtimeDir, 65534, 65534);
    const res = await runWm(["daemon", "start"], {
      env: { ...home.env, WM_START_TIMEOUT_MS: "5000" },
    });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain("owned by uid 65534");
  });

  it("names WM_RUNTIME_DIR when the socket path is too long", async () => {
    const res = await runWm(["daemon", "start"], {
      env: { ...home.env, WM_RUNTIME_DIR: `/tmp/${"x".repeat(120)}` },
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/over the 107-byte limit/);
    expect(res.stderr).toContain("WM_RUNTIME_DIR");
  });
});
