import { execFile } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installService, uninstallService } from "./index.ts";
import { renderLaunchAgent } from "./launchd.ts";
import { parsePlist } from "./plist-parse.ts";
import { daemonPath } from "./template.ts";
import { makeSandbox, REPO_ROOT, type Sandbox } from "./test-support.ts";

const PLUTIL = "/usr/bin/plutil";
let box: Sandbox;

beforeEach(async () => {
  box = await makeSandbox();
});
afterEach(() => box.cleanup());

function options(extra: { dryRun?: boolean; socketActivation?: boolean } = {}) {
  return {
    platform: "darwin" as const,
    homedir: box.homedir,
    env: { PATH: "/opt/homebrew/bin:/usr/bin:/bin", TMPDIR: "/var/folders/xy/T/" },
    uid: 501,
    nodePath: process.execPath,
    daemonEntry: box.daemonEntry,
    templateDir: REPO_ROOT,
    socketActivation: extra.socketActivation ?? false,
    run: box.run,
    dryRun: extra.dryRun ?? false,
  };
}

const plistPath = () => path.join(box.homedir, "Library/LaunchAgents/dev.wm.daemon.plist");

describe("the LaunchAgent plist", () => {
  it("parses as a strict XML plist with the keys launchd needs", async () => {
    const plist = parsePlist(await renderLaunchAgent(options())) as Record<string, unknown>;
    const log = path.join(box.homedir, ".local/state/wm/launchd.log");
    expect(plist).toEqual({
      Label: "dev.wm.daemon",
      ProgramArguments: [process.execPath, box.daemonEntry],
      WorkingDirectory: box.homedir,
      EnvironmentVariables: {
        PATH: daemonPath("/opt/homebrew/bin:/usr/bin:/bin", process.execPath),
        TMPDIR: "/var/folders/xy/T/",
        WM_DAEMON_IDLE_TIMEOUT: "0",
      },
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      StandardOutPath: log,
      StandardErrorPath: log,
    });
  });

  it("escapes paths that look like markup", async () => {
    const odd = path.join(box.root, "a&b <c>", "wmd.js");
    await fs.mkdir(path.dirname(odd), { recursive: true });
    await fs.writeFile(odd, "");
    const plist = parsePlist(await renderLaunchAgent({ ...options(), daemonEntry: odd })) as {
      ProgramArguments: string[];
    };
    expect(plist.ProgramArguments[1]).toBe(odd);
  });

  it.runIf(existsSync(PLUTIL))("passes plutil -lint", async () => {
    await installService(options());
    await promisify(execFile)(PLUTIL, ["-lint", plistPath()]);
  });
});

describe("installService on macOS", () => {
  it("writes the plist and bootstraps it in the gui domain", async () => {
    const result = await installService(options());
    expect(result.files).toEqual([plistPath()]);
    expect(result.commands).toEqual([
      ["launchctl", "enable", "gui/501/dev.wm.daemon"],
      ["launchctl", "bootstrap", "gui/501", plistPath()],
    ]);
    expect(existsSync(path.join(box.homedir, ".local/state/wm"))).toBe(true);
  });

  it("boots out an earlier install first, and notes that socket activation is systemd-only", async () => {
    await installService(options());
    const result = await installService(options({ socketActivation: true }));
    expect(result.commands[0]).toEqual(["launchctl", "bootout", "gui/501/dev.wm.daemon"]);
    expect(result.warnings.join()).toContain("systemd-only");
  });

  it("writes nothing in a dry run", async () => {
    const result = await installService(options({ dryRun: true }));
    expect(result.files).toEqual([plistPath()]);
    expect(box.calls).toEqual([]);
    expect(existsSync(plistPath())).toBe(false);
  });

  it("uninstalls by booting out and removing the plist", async () => {
    await installService(options());
    const result = await uninstallService(options());
    expect(result.commands).toEqual([["launchctl", "bootout", "gui/501/dev.wm.daemon"]]);
    expect(existsSync(plistPath())).toBe(false);
  });
});

describe("other platforms", () => {
  it("are refused with a clear message", async () => {
    await expect(installService({ ...options(), platform: "win32" })).rejects.toThrow(
      "no service manager support for win32",
    );
  });
});
