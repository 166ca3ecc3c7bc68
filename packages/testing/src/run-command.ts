import { spawn } from "node:child_process";

export interface RunResult {
  /** Null when a signal ended it (or it was killed for outliving its time limit). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CommandResult extends RunResult {
  /** It outlived `timeoutMs` and was killed; `code` is null. */
  timedOut: boolean;
}

export interface RunCommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to its stdin, which is then closed (default: an empty stdin). */
  input?: string;
  /** Past this it is killed with SIGKILL and the result, settled then, says `timedOut`. */
  timeoutMs?: number;
  /** "inherit": its stderr goes to this process's as it comes, and `stderr` stays empty. */
  stderr?: "pipe" | "inherit";
}

/**
 * Runs a program to its end without blocking this process (a server this process runs may be
 * what it talks to), keeping both outputs. An exit code or a timeout is in the result, never
 * thrown; it rejects only when the program cannot be started.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  opts: RunCommandOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ["pipe", "pipe", opts.stderr ?? "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill("SIGKILL");
            resolve({ code: null, stdout, stderr, timedOut: true });
          }, opts.timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut: false });
    });
    // A child killed (or exiting) before it read its input must not fail the caller with EPIPE.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(opts.input ?? "");
  });
}
