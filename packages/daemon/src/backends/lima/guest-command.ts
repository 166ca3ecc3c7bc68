import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { RpcError } from "@wm/protocol";

/*
 * How a sandbox's command runs in a Lima guest. Its environment goes through a file, not
 * `limactl shell` arguments: those end up in the host's `ssh` command line, which every local
 * user can read in `ps`. The file lives in a per-instance host directory that the VM gets
 * read-only at the same path; the command's guest pid goes to a file in the guest's /tmp so a
 * signal can be delivered to the command itself (ssh forwards none without a terminal).
 * The file is sourced by the guest's `/bin/sh`: it holds `export` lines and the launch's
 * preflight, all written by the daemon.
 */

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `sh -c` body: load the environment, record the pid, become the command. */
const WRAPPER = '. "$1" || exit 126; echo $$ > "$2" || exit 126; shift 2; exec "$@"';

function quote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** The env file's text: one `export NAME='value'` per variable; a bad name is refused. */
export function envFileText(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([name, value]) => {
      if (!ENV_NAME.test(name)) {
        throw new RpcError(
          "Refused",
          `sandbox environment variable ${JSON.stringify(name)} is not a valid name; no sandbox was started`,
        );
      }
      return `export ${name}=${quote(value)}\n`;
    })
    .join("");
}

/** Where one sandbox's files are, on the host and in the guest. */
export interface GuestFiles {
  /** Host path, also the guest path (the run directory is shared at the same place). */
  envFile: string;
  /** Guest path. */
  pidFile: string;
}

/** A file-name-safe form of the sandbox's name. */
function fileName(sandboxName: string): string {
  return sandboxName.replace(/[^A-Za-z0-9._-]/g, "_");
}

export function guestFiles(runDir: string, sandboxName: string): GuestFiles {
  const base = fileName(sandboxName);
  return { envFile: path.join(runDir, `${base}.env`), pidFile: `/tmp/wm-lima-${base}.pid` };
}

/**
 * Writes the env file (owner-only, never over an existing file or through a link), with the
 * launch's preflight lines after the variables: the guest shell runs them before the command.
 */
export async function writeEnvFile(
  files: GuestFiles,
  env: Readonly<Record<string, string>>,
  preflight?: string | undefined,
): Promise<void> {
  const text = envFileText(env) + (preflight ? `${preflight}\n` : "");
  await mkdir(path.dirname(files.envFile), { recursive: true, mode: 0o700 });
  await writeFile(files.envFile, text, { mode: 0o600, flag: "wx" });
}

export async function removeEnvFile(files: GuestFiles): Promise<void> {
  await rm(files.envFile, { force: true });
}

/** The guest argv that runs `command` with the env file loaded and its pid recorded. */
export function guestArgv(files: GuestFiles, command: readonly string[]): string[] {
  return ["/bin/sh", "-c", WRAPPER, "wm-sandbox", files.envFile, files.pidFile, ...command];
}

/** The guest argv that sends `signal` (a name like SIGTERM) to the recorded command. */
export function guestSignalArgv(files: GuestFiles, signal: string): string[] {
  return ["/bin/sh", "-c", 'kill -s "$0" "$(cat "$1")"', signal.replace(/^SIG/, ""), files.pidFile];
}

/** The guest argv that forgets a finished sandbox's pid file. */
export function guestCleanupArgv(files: GuestFiles): string[] {
  return ["rm", "-f", files.pidFile];
}
