import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { makeTempHome, runWm, type TempHome, WMD_BIN } from "@wm/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let home: TempHome;
beforeEach(async () => {
  home = await makeTempHome();
  await fs.mkdir(home.runtimeDir, { mode: 0o700 });
});
afterEach(async () => {
  await home.cleanup();
});

/** systemd-socket-activate listens like a .socket unit and execs wmd on the first connection. */
function activate(): ReturnType<typeof spawn> {
  const passEnv = ["WM_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "HOME", "WM_LOG_LEVEL"];
  return spawn(
    "systemd-socket-activate",
    ["-l", home.socketPath, ...passEnv.flatMap((k) => ["-E", k]), process.execPath, WMD_BIN],
    { env: home.env, stdio: "ignore" },
  );
}

describe("systemd socket activation", () => {
  it("serves the inherited socket and makes it owner-only", async () => {
    const activator = activate();
    try {
      while (!(await fs.lstat(home.socketPath).catch(() => undefined))) await sleep(20);
      const res = await runWm(["daemon", "status", "--json"], { env: home.env });
      expect(res.code, res.stderr).toBe(0);
      const status = JSON.parse(res.stdout);
      expect(status.socketActivated).toBe(true);
      expect(status.pid).toBe(activator.pid);
      expect((await fs.lstat(home.socketPath)).mode & 0o777).toBe(0o600);
    } finally {
      activator.kill("SIGTERM");
    }
  });
});
