import { execFile } from "node:child_process";
import type { DoctorContext, Exec } from "./types.ts";

export const COMMAND_TIMEOUT_MS = 3000;

export const execNoShell: Exec = (file, args, timeoutMs) =>
  new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { shell: false, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ code: 0, stdout, stderr });
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        if (typeof e.code === "number") {
          resolve({ code: e.code, stdout, stderr });
        } else if (e.killed) {
          resolve({ code: null, stdout, stderr, error: `timed out after ${timeoutMs} ms` });
        } else {
          resolve({ code: null, stdout, stderr, error: e.code ?? e.message });
        }
      },
    );
  });

export type VersionProbe =
  | { state: "missing"; command: string }
  | { state: "ok"; command: string; path: string; line: string }
  | { state: "broken"; command: string; path: string; reason: string };

function firstLine(text: string): string | undefined {
  return text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.length > 0);
}

/** Finds `command` on PATH and runs `command --version` (or `args`), returning its first line. */
export async function probeVersion(
  ctx: Pick<DoctorContext, "which" | "exec" | "timeoutMs">,
  command: string,
  args: readonly string[] = ["--version"],
): Promise<VersionProbe> {
  const path = await ctx.which(command);
  if (!path) return { state: "missing", command };
  const res = await ctx.exec(path, args, ctx.timeoutMs);
  const line = firstLine(res.stdout) ?? firstLine(res.stderr);
  if (res.error !== undefined) {
    return { state: "broken", command, path, reason: `${path} ${args.join(" ")}: ${res.error}` };
  }
  if (res.code !== 0 || line === undefined) {
    const why = line ?? "no output";
    return {
      state: "broken",
      command,
      path,
      reason: `${path} ${args.join(" ")} exited ${res.code}: ${why}`,
    };
  }
  return { state: "ok", command, path, line };
}

/** A package-manager command that installs `packages` on this platform. */
export function installHint(
  ctx: Pick<DoctorContext, "platform" | "uid">,
  packages: readonly string[],
  brewPackages: readonly string[] = packages,
): string {
  if (ctx.platform === "darwin") return `brew install ${brewPackages.join(" ")}`;
  const sudo = ctx.uid === 0 ? "" : "sudo ";
  return `${sudo}apt-get install -y ${packages.join(" ")} (Debian/Ubuntu)`;
}
