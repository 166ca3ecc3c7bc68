import type { EngineVersion } from "../backends/types.ts";

export interface ExecResult {
  /** Exit code; null when the process did not exit on its own. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why the command could not run or finish: spawn error or timeout. */
  error?: string;
}

/** Runs a program directly (never through a shell), killing it after `timeoutMs`. */
export type Exec = (
  file: string,
  args: readonly string[],
  timeoutMs: number,
) => Promise<ExecResult>;

/** Absolute path of an executable found on PATH, or undefined. */
export type Which = (command: string) => Promise<string | undefined>;

export type { EngineVersion };

/** Asks a Docker-compatible API on a Unix socket for its version. Rejects when it does not answer. */
export type EngineProbe = (socketPath: string, timeoutMs: number) => Promise<EngineVersion>;

export type PathExists = (path: string) => Promise<boolean>;

export interface DoctorProbes {
  which: Which;
  exec: Exec;
  engineVersion: EngineProbe;
  pathExists: PathExists;
}

export interface DoctorOptions extends Partial<DoctorProbes> {
  /** How an engine's API is asked for its version: the backends' probe, or a fake. */
  engineVersion: EngineProbe;
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  /** `process.arch` style: "x64", "arm64", … */
  arch?: string;
  uid?: number;
  /** Limit for each external command and engine call, ms (at most 3000). */
  timeoutMs?: number;
}

export interface DoctorContext extends DoctorProbes {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  readonly arch: string;
  readonly uid: number;
  readonly timeoutMs: number;
}
