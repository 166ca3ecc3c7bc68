import { promises as fs } from "node:fs";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type RunCommand = (cmd: string, args: readonly string[]) => Promise<RunResult>;

/** What a failing command means: stop the operation, note it, or expect it. */
export type OnFailure = "throw" | "warn" | "ignore";

export type Step =
  | { kind: "mkdir"; path: string }
  | { kind: "write"; path: string; content: string }
  | { kind: "remove"; path: string }
  | { kind: "run"; argv: [string, ...string[]]; onFailure: OnFailure };

export interface Plan {
  steps: Step[];
  warnings: string[];
}

export interface ServiceResult {
  /** Files written (install) or removed (uninstall). */
  files: string[];
  /** Commands run, or that would run with dryRun. */
  commands: string[][];
  warnings: string[];
}

export class ServiceCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
    hint?: string,
  ) {
    const output = (result.stderr || result.stdout).trim();
    super(
      `\`${argv.join(" ")}\` exited ${result.code}${output ? `: ${output}` : ""}${hint ? `\n${hint}` : ""}`,
    );
    this.name = "ServiceCommandError";
  }
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temp, content, { mode: 0o644 });
  await fs.rename(temp, file);
}

export async function executePlan(
  plan: Plan,
  opts: { run: RunCommand; dryRun?: boolean | undefined; failureHint?: string },
): Promise<ServiceResult> {
  const result: ServiceResult = { files: [], commands: [], warnings: [...plan.warnings] };
  for (const step of plan.steps) {
    if (step.kind === "write" || step.kind === "remove") result.files.push(step.path);
    if (step.kind === "run") result.commands.push([...step.argv]);
    if (opts.dryRun) continue;
    if (step.kind === "mkdir") await fs.mkdir(step.path, { recursive: true, mode: 0o700 });
    if (step.kind === "write") await writeAtomically(step.path, step.content);
    if (step.kind === "remove") await fs.rm(step.path, { force: true });
    if (step.kind === "run") {
      const [cmd, ...args] = step.argv;
      const res = await opts.run(cmd, args);
      if (res.code === 0 || step.onFailure === "ignore") continue;
      if (step.onFailure === "throw")
        throw new ServiceCommandError(step.argv, res, opts.failureHint);
      result.warnings.push(new ServiceCommandError(step.argv, res).message);
    }
  }
  return result;
}
