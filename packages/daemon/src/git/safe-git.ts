import { execFile } from "node:child_process";
import {
  configEnv,
  DRIVER_SECTIONS_PATTERN,
  driverOverrides,
  STATIC_OVERRIDES,
} from "./safe-config.ts";
import { buildSafeGitEnv } from "./safe-env.ts";
import { guardArgs } from "./safe-subcommands.ts";

export interface SafeGitOptions {
  /** The git dir from the daemon's records (a linked worktree's admin dir, or a `.git`). */
  gitDir: string;
  /** Read from the daemon's records; overrides the `commondir` file inside `gitDir`. */
  commonDir?: string | undefined;
  /** Omit only for commands that need no work tree. */
  workTree?: string | undefined;
  /** Source of PATH, HOME, LANG, LC_*, TZ; nothing else is taken from it. Default: process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  /** Global and system config are not read, so commits need an identity given here. */
  identity?: { name: string; email: string } | undefined;
  gitBinary?: string | undefined;
  timeoutMs?: number | undefined;
  /** Extra object directory to read from (a sandbox's git shadow); git never writes there. */
  alternateObjects?: string | undefined;
  /** Awaited before every run; throwing stops the run (e.g. a symlink planted in git metadata). */
  preflight?: (() => Promise<void>) | undefined;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface SafeGit {
  readonly gitDir: string;
  readonly workTree: string | undefined;
  /** Runs `git <global options> <args>` without a shell. Rejects only when git could not run. */
  run(args: readonly string[], opts?: { input?: string }): Promise<GitResult>;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export function createSafeGit(opts: SafeGitOptions): SafeGit {
  const binary = opts.gitBinary ?? "git";
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const env = buildSafeGitEnv(opts.env ?? process.env);
  env.GIT_DIR = opts.gitDir;
  if (opts.commonDir !== undefined) env.GIT_COMMON_DIR = opts.commonDir;
  if (opts.workTree !== undefined) env.GIT_WORK_TREE = opts.workTree;
  if (opts.alternateObjects !== undefined)
    env.GIT_ALTERNATE_OBJECT_DIRECTORIES = opts.alternateObjects;
  const cwd = opts.workTree ?? opts.gitDir;

  const global = ["--no-pager", "--no-replace-objects", `--git-dir=${opts.gitDir}`];
  if (opts.workTree !== undefined) global.push(`--work-tree=${opts.workTree}`);
  const identity = opts.identity
    ? [["user.name", opts.identity.name] as const, ["user.email", opts.identity.email] as const]
    : [];
  for (const [key, value] of [...identity, ...STATIC_OVERRIDES])
    global.push("-c", `${key}=${value}`);

  const exec = (args: readonly string[], extraEnv: Record<string, string>, input?: string) =>
    new Promise<GitResult>((resolve, reject) => {
      const child = execFile(
        binary,
        [...global, ...args],
        {
          cwd,
          env: { ...env, ...extraEnv },
          shell: false,
          timeout,
          killSignal: "SIGKILL",
          maxBuffer: MAX_OUTPUT_BYTES,
          encoding: "utf8",
        },
        (err, stdout, stderr) => {
          if (!err) return resolve({ stdout, stderr, code: 0 });
          const e = err as NodeJS.ErrnoException & { killed?: boolean };
          if (typeof e.code === "number" && !e.killed)
            return resolve({ stdout, stderr, code: e.code });
          reject(
            new Error(
              `git ${args.join(" ")} failed to run: ${e.killed ? `killed after ${timeout} ms` : e.message}`,
            ),
          );
        },
      );
      child.stdin?.end(input);
    });

  return {
    gitDir: opts.gitDir,
    workTree: opts.workTree,
    async run(args, runOpts) {
      const guarded = guardArgs(args);
      await opts.preflight?.();
      const listing = await exec(["config", "-z", "--get-regexp", DRIVER_SECTIONS_PATTERN], {});
      if (listing.code !== 0 && listing.code !== 1) {
        throw new Error(`reading ${opts.gitDir} config failed: ${listing.stderr.trim()}`);
      }
      return exec(guarded, configEnv(driverOverrides(listing.stdout)), runOpts?.input);
    },
  };
}
