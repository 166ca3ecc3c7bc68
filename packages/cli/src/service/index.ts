import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { planLaunchdInstall, planLaunchdUninstall } from "./launchd.ts";
import { executePlan, type Plan, type RunCommand, type ServiceResult } from "./plan.ts";
import { planSystemdInstall, planSystemdUninstall, SYSTEMD_FAILURE_HINT } from "./systemd.ts";

export {
  type RunCommand,
  type RunResult,
  ServiceCommandError,
  type ServiceResult,
} from "./plan.ts";
export { templateDirFor } from "./template.ts";

type Env = Readonly<Record<string, string | undefined>>;

export interface UninstallServiceOptions {
  platform: NodeJS.Platform;
  homedir: string;
  env: Env;
  /** Needed for launchctl's `gui/<uid>` domain. */
  uid: number;
  run: RunCommand;
  /** Write nothing and run nothing; return the same plan. */
  dryRun?: boolean;
}

export interface InstallServiceOptions extends UninstallServiceOptions {
  /** Absolute path of the node binary that runs the daemon. */
  nodePath: string;
  /** Absolute path of the daemon bundle, `<install-dir>/dist/wmd.js`. */
  daemonEntry: string;
  /** Directory holding `systemd/` and `launchd/` templates; usually `templateDirFor(daemonEntry)`. */
  templateDir: string;
  /** systemd only: listen through `wm.socket` and start the daemon on the first connection. */
  socketActivation: boolean;
}

async function assertAbsoluteFile(what: string, file: string): Promise<void> {
  if (!path.isAbsolute(file)) throw new Error(`${what} must be an absolute path, got "${file}"`);
  try {
    if ((await fs.stat(file)).isFile()) return;
  } catch {}
  throw new Error(`${what} ${file} does not exist or is not a file`);
}

function unsupported(platform: NodeJS.Platform): Error {
  return new Error(
    `no service manager support for ${platform}: wm installs a systemd user unit on Linux and a LaunchAgent on macOS`,
  );
}

/** Writes the unit(s) or LaunchAgent with absolute paths filled in, then enables and starts it. */
export async function installService(opts: InstallServiceOptions): Promise<ServiceResult> {
  await assertAbsoluteFile("node path", opts.nodePath);
  await assertAbsoluteFile("daemon entry", opts.daemonEntry);
  let plan: Plan;
  if (opts.platform === "linux") {
    plan = await planSystemdInstall(opts);
  } else if (opts.platform === "darwin") {
    plan = await planLaunchdInstall(opts);
    if (opts.socketActivation) {
      plan.warnings.push(
        "socket activation is systemd-only; the LaunchAgent starts the daemon at login and keeps it running",
      );
    }
  } else {
    throw unsupported(opts.platform);
  }
  return executePlan(plan, { run: opts.run, dryRun: opts.dryRun, ...failureHint(opts.platform) });
}

/** Stops and disables the service, then removes the files `installService` wrote. */
export async function uninstallService(opts: UninstallServiceOptions): Promise<ServiceResult> {
  let plan: Plan;
  if (opts.platform === "linux") plan = await planSystemdUninstall(opts);
  else if (opts.platform === "darwin") plan = await planLaunchdUninstall(opts);
  else throw unsupported(opts.platform);
  return executePlan(plan, { run: opts.run, dryRun: opts.dryRun, ...failureHint(opts.platform) });
}

function failureHint(platform: NodeJS.Platform): { failureHint?: string } {
  return platform === "linux" ? { failureHint: SYSTEMD_FAILURE_HINT } : {};
}

/** Runs a command without a shell; a command that cannot start reports code 127. */
export const runCommand: RunCommand = (cmd, args) =>
  new Promise((resolve) => {
    execFile(cmd, [...args], { shell: false, timeout: 60_000 }, (err, stdout, stderr) => {
      if (!err) return resolve({ code: 0, stdout, stderr });
      const code = (err as NodeJS.ErrnoException).code;
      resolve({
        code: typeof code === "number" ? code : 127,
        stdout,
        stderr: stderr || (err as Error).message,
      });
    });
  });
