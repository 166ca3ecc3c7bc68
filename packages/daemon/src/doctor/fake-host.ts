import type { DoctorContext, EngineVersion, ExecResult } from "./types.ts";

export interface FakeHost {
  /** command name → what `command --version` (or -V) prints; `null` = installed but broken. */
  binaries?: Record<string, string | null>;
  /** socket path → engine answer, or an errno code it fails with. */
  engines?: Record<string, EngineVersion | string>;
  files?: readonly string[];
  platform?: NodeJS.Platform;
  arch?: string;
  uid?: number;
  env?: Record<string, string | undefined>;
  /** Delay every exec by this many ms. */
  execDelayMs?: number;
}

/** A doctor context backed by an in-memory machine description, for unit tests. */
export function fakeHost(host: FakeHost = {}): DoctorContext & { calls: string[] } {
  const binaries = host.binaries ?? {};
  const calls: string[] = [];
  const binDir = "/fake/bin";
  return {
    calls,
    env: { PATH: binDir, ...host.env },
    platform: host.platform ?? "linux",
    arch: host.arch ?? "x64",
    uid: host.uid ?? 1000,
    timeoutMs: 3000,
    which: async (command) => (command in binaries ? `${binDir}/${command}` : undefined),
    exec: async (file, args, timeoutMs): Promise<ExecResult> => {
      calls.push(`${file} ${args.join(" ")}`);
      if (host.execDelayMs) await new Promise((r) => setTimeout(r, host.execDelayMs));
      const out = binaries[file.slice(binDir.length + 1)];
      if (out === undefined) return { code: null, stdout: "", stderr: "", error: "ENOENT" };
      if (out === null)
        return { code: null, stdout: "", stderr: "", error: `timed out after ${timeoutMs} ms` };
      return { code: 0, stdout: `${out}\n`, stderr: "" };
    },
    engineVersion: async (socketPath) => {
      calls.push(`engine ${socketPath}`);
      const answer = host.engines?.[socketPath] ?? "ENOENT";
      if (typeof answer === "string") {
        throw Object.assign(new Error(`connect ${answer} ${socketPath}`), { code: answer });
      }
      return answer;
    },
    pathExists: async (p) => (host.files ?? []).includes(p),
  };
}
