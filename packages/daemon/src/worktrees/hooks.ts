import { spawn } from "node:child_process";
import { type HookRun, RpcError } from "@wm/protocol";

type Env = Readonly<Record<string, string | undefined>>;

export type HookName = HookRun["hook"];

export interface HookSpec {
  hook: HookName;
  /** From the global file and the main worktree's project file only. */
  commands: readonly string[];
  /** `hook_shell`: argv the command is appended to. */
  shell: readonly string[];
  cwd: string;
  env: Env;
  /** WM_HANDLE, WM_WORKTREE_PATH, WM_PROJECT_ROOT, WM_CONFIG_DIR, … */
  vars: Readonly<Record<string, string>>;
  timeoutMs?: number;
}

export const DEFAULT_HOOK_SHELL = ["bash", "-c"] as const;
const OUTPUT_TAIL = 16 * 1024;
const DEFAULT_TIMEOUT_MS = 15 * 60 * 1000;

function runOne(spec: HookSpec, command: string): Promise<HookRun> {
  const [program, ...args] = spec.shell.length > 0 ? spec.shell : DEFAULT_HOOK_SHELL;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, spec.vars);
  return new Promise((resolve) => {
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL);
    };
    const child = spawn(program as string, [...args, command], {
      cwd: spec.cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const timer = setTimeout(() => {
      output += `\n[wm: killed after ${Math.round((spec.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000)} s]`;
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, spec.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ hook: spec.hook, command, code: 127, output: `${output}${err.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ hook: spec.hook, command, code: code ?? (signal ? 128 : 1), output });
    });
  });
}

export class HookFailedError extends RpcError {
  constructor(
    readonly run: HookRun,
    readonly runs: HookRun[],
    undone: string,
  ) {
    super("Refused", `${run.hook} hook \`${run.command}\` exited with ${run.code}; ${undone}`, {
      hook: run.hook,
      command: run.command,
      exitCode: run.code,
      output: run.output,
      runs,
    });
  }
}

/**
 * Runs each hook command in turn (argv = hook_shell + command, cwd = the worktree); stops at the
 * first that fails and throws HookFailedError saying what was `undone` because of it.
 */
export async function runHooks(spec: HookSpec, undone: string): Promise<HookRun[]> {
  const runs: HookRun[] = [];
  for (const command of spec.commands) {
    const run = await runOne(spec, command);
    runs.push(run);
    if (run.code !== 0) throw new HookFailedError(run, runs, undone);
  }
  return runs;
}
