import { WM_BIN } from "./repo-root.ts";
import { type RunResult, runCommand } from "./run-command.ts";

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

/** Run the built `wm` CLI as a user would: a separate process, no TTY. */
export async function runWm(args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const { code, stdout, stderr, timedOut } = await runCommand(process.execPath, [WM_BIN, ...args], {
    env: opts.env,
    cwd: opts.cwd,
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
  if (timedOut)
    throw new Error(`wm ${args.join(" ")} timed out\nstdout: ${stdout}\nstderr: ${stderr}`);
  return { code, stdout, stderr };
}
