import { execFile } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installService, ServiceCommandError, uninstallService } from "./index.ts";
import { makeSandbox, REPO_ROOT, type Sandbox } from "./test-support.ts";

const SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze";
let box: Sandbox;

beforeEach(async () => {
  box = await makeSandbox();
});
afterEach(() => box.cleanup());

function options(
  extra: { socketActivation?: boolean; dryRun?: boolean; env?: Record<string, string> } = {},
) {
  return {
    platform: "linux" as const,
    homedir: box.homedir,
    env: extra.env ?? { PATH: "/usr/local/bin:/usr/bin:/bin" },
    uid: 1000,
    nodePath: process.execPath,
    daemonEntry: box.daemonEntry,
    templateDir: REPO_ROOT,
    socketActivation: extra.socketActivation ?? true,
    run: box.run,
    dryRun: extra.dryRun ?? false,
  };
}

const unitDir = () => path.join(box.homedir, ".config/systemd/user");

describe("installService on Linux", () => {
  it("writes both units and enables the socket", async () => {
    const result = await installService(options());
    expect(result.files).toEqual([
      path.join(unitDir(), "wm.service"),
      path.join(unitDir(), "wm.socket"),
    ]);
    expect(result.commands).toEqual([
      ["systemctl", "--user", "daemon-reload"],
      ["systemctl", "--user", "enable", "--now", "wm.socket"],
    ]);
    expect(box.calls).toEqual(result.commands);
    const service = await fs.readFile(path.join(unitDir(), "wm.service"), "utf8");
    expect(service).toContain(`ExecStart="${process.execPath}" "${box.daemonEntry}"`);
    expect(service).toContain("Environment=WM_DAEMON_IDLE_TIMEOUT=\n");
    expect(service).not.toMatch(/@[A-Z_]+@/);
    const socket = await fs.readFile(path.join(unitDir(), "wm.socket"), "utf8");
    expect(socket).toContain("ListenStream=%t/wm/daemon.sock");
  });

  it("enables the service itself, without idle exit, when socket activation is off", async () => {
    const result = await installService(options({ socketActivation: false }));
    expect(result.files).toEqual([path.join(unitDir(), "wm.service")]);
    expect(result.commands.at(-1)).toEqual([
      "systemctl",
      "--user",
      "enable",
      "--now",
      "wm.service",
    ]);
    const service = await fs.readFile(path.join(unitDir(), "wm.service"), "utf8");
    expect(service).toContain("Environment=WM_DAEMON_IDLE_TIMEOUT=0\n");
  });

  it("replaces an earlier install, dropping a socket unit no longer wanted", async () => {
    await installService(options());
    const result = await installService(options({ socketActivation: false }));
    expect(result.commands[0]).toEqual([
      "systemctl",
      "--user",
      "disable",
      "--now",
      "wm.service",
      "wm.socket",
    ]);
    expect(existsSync(path.join(unitDir(), "wm.socket"))).toBe(false);
    expect(result.warnings.join()).toContain("removed wm.socket");
  });

  it("honours XDG_CONFIG_HOME", async () => {
    const config = path.join(box.root, "cfg");
    const result = await installService(options({ env: { XDG_CONFIG_HOME: config } }));
    expect(result.files[0]).toBe(path.join(config, "systemd/user/wm.service"));
  });

  it("plans without writing or running anything in a dry run", async () => {
    const result = await installService(options({ dryRun: true }));
    expect(result.files).toHaveLength(2);
    expect(result.commands).toHaveLength(2);
    expect(box.calls).toEqual([]);
    expect(existsSync(unitDir())).toBe(false);
  });

  it("explains a missing systemd user manager", async () => {
    const failing = await makeSandbox(["systemctl --user daemon-reload"]);
    try {
      const err = await installService({
        ...options(),
        run: failing.run,
        homedir: failing.homedir,
      }).catch((e) => e);
      expect(err).toBeInstanceOf(ServiceCommandError);
      expect(err.message).toContain(
        "`systemctl --user daemon-reload` exited 1: Failed to connect to bus",
      );
      expect(err.message).toContain("systemd user manager");
    } finally {
      await failing.cleanup();
    }
  });

  it("refuses relative paths and a missing daemon bundle", async () => {
    await expect(installService({ ...options(), nodePath: "node" })).rejects.toThrow(
      "absolute path",
    );
    await expect(
      installService({ ...options(), daemonEntry: "/nonexistent/wmd.js" }),
    ).rejects.toThrow("does not exist");
  });
});

describe("uninstallService on Linux", () => {
  it("disables, removes and reloads", async () => {
    await installService(options());
    box.calls.length = 0;
    const result = await uninstallService(options());
    expect(result.commands).toEqual([
      ["systemctl", "--user", "disable", "--now", "wm.service", "wm.socket"],
      ["systemctl", "--user", "daemon-reload"],
    ]);
    expect(result.files).toHaveLength(2);
    expect(existsSync(path.join(unitDir(), "wm.service"))).toBe(false);
  });

  it("says so when nothing is installed", async () => {
    const result = await uninstallService(options());
    expect(result).toMatchObject({ files: [], commands: [] });
    expect(result.warnings[0]).toContain("no wm units");
  });
});

describe.runIf(existsSync(SYSTEMD_ANALYZE))("systemd-analyze verify", () => {
  async function verify(units: string[]) {
    const runtimeDir = path.join(box.root, "run");
    await fs.mkdir(runtimeDir, { mode: 0o700 });
    const env = { ...process.env, XDG_RUNTIME_DIR: runtimeDir, SYSTEMD_LOG_COLOR: "0" };
    const res = await promisify(execFile)(SYSTEMD_ANALYZE, ["verify", "--user", ...units], {
      env,
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    const ours = `${res.stdout}\n${res.stderr}`
      .split("\n")
      .filter((line) => /wm\.(service|socket)|wmd\.js/.test(line) || line.includes(box.root));
    return { code: res.code, ours };
  }

  it.each([true, false])(
    "accepts the rendered units (socket activation: %s)",
    async (socketActivation) => {
      const { files } = await installService(options({ socketActivation }));
      const { code, ours } = await verify(files);
      expect(ours).toEqual([]);
      expect(code).toBe(0);
    },
  );

  it("notices a broken unit (control)", async () => {
    const { files } = await installService(options());
    const service = files[0] as string;
    await fs.appendFile(service, "\n[Service]\nNoSuchSetting=1\n");
    const { ours } = await verify(files);
    expect(ours.join("\n")).toContain("NoSuchSetting");
  });
});
