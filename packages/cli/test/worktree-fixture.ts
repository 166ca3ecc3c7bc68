import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { makeTempHome, type RunResult, runWm, type TempHome } from "@wm/testing";
import { expect } from "vitest";

export interface Workbench {
  home: TempHome;
  /** The main worktree of the test repository. */
  repo: string;
  /** `tmux -L` name of this bench's own server. */
  server: string;
  socketPath: string;
  /** Environment of a `wm` run inside the bench's tmux session (TMUX set, no pane). */
  env: NodeJS.ProcessEnv;
  git(cwd: string, ...args: string[]): string;
  tmux(...args: string[]): string;
  wm(
    args: readonly string[],
    opts?: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
  ): Promise<RunResult>;
  /** `wm … --json`, expecting exit 0. */
  wmJson<T = Record<string, unknown>>(
    args: readonly string[],
    opts?: { cwd?: string; env?: NodeJS.ProcessEnv },
  ): Promise<T>;
  windows(): Array<{ id: string; name: string; status: string; worktree: string }>;
  cleanup(): Promise<void>;
}

let counter = 0;

function gitIn(cwd: string, env: NodeJS.ProcessEnv, args: readonly string[]): string {
  return execFileSync("git", args, {
    cwd,
    env: { PATH: env.PATH, HOME: env.HOME },
    encoding: "utf8",
  }).trim();
}

/**
 * A temp home with a global config, a repository with one commit, and a tmux server of its
 * own (`tmux -L wmt-…`, session `main`) that `wm` runs "inside" through `$TMUX`.
 */
export async function makeWorkbench(
  opts: { global?: string; project?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Workbench> {
  const home = await makeTempHome(opts.env);
  await fs.mkdir(home.configDir, { recursive: true });
  await fs.writeFile(
    path.join(home.configDir, "config.yaml"),
    opts.global ?? 'agent: "echo agent-started"\n',
  );
  const repo = path.join(home.root, "proj");
  await fs.mkdir(repo);
  const git = (cwd: string, ...args: string[]) => gitIn(cwd, home.env, args);
  git(repo, "init", "-q", "-b", "main");
  git(repo, "config", "user.name", "Repo User");
  git(repo, "config", "user.email", "repo@example.invalid");
  await fs.writeFile(path.join(repo, "README.md"), "hello\n");
  if (opts.project !== undefined)
    await fs.writeFile(path.join(repo, ".workmux.yaml"), opts.project);
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "initial");

  const server = `wmt-${process.pid}-${++counter}`;
  const tmuxEnv = { ...home.env, HISTFILE: "/dev/null" };
  const tmux = (...args: string[]) =>
    execFileSync("tmux", ["-u", "-L", server, ...args], { env: tmuxEnv, encoding: "utf8" }).replace(
      /\n$/,
      "",
    );
  tmux("-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", "220", "-y", "60", "-c", repo);
  const socketPath = tmux("display-message", "-p", "#{socket_path}");
  const serverPid = tmux("display-message", "-p", "#{pid}");
  const env = { ...home.env, TMUX: `${socketPath},${serverPid},0` };

  const wm: Workbench["wm"] = (args, o = {}) =>
    runWm(args, { env: o.env ?? env, cwd: o.cwd ?? repo, timeoutMs: o.timeoutMs ?? 60_000 });
  return {
    home,
    repo,
    server,
    socketPath,
    env,
    git,
    tmux,
    wm,
    async wmJson(args, o) {
      const res = await wm([...args, "--json"], o);
      expect(res.code, `wm ${args.join(" ")}: ${res.stderr}`).toBe(0);
      return JSON.parse(res.stdout);
    },
    windows() {
      const out = tmux(
        "list-windows",
        "-a",
        "-F",
        "#{window_id}\t#{window_name}\t#{@wm_status}\t#{@wm_worktree}",
      );
      return out
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const [id = "", name = "", status = "", worktree = ""] = l.split("\t");
          return { id, name, status, worktree };
        });
    },
    async cleanup() {
      await runWm(["daemon", "stop"], { env: home.env }).catch(() => undefined);
      try {
        tmux("kill-server");
      } catch {}
      await fs.rm(socketPath, { force: true });
      await sleep(200);
      await home.cleanup().catch(async () => {
        await sleep(500);
        await home.cleanup();
      });
    },
  };
}

/** Polls `check` until it returns a truthy value (tmux hooks and shells run asynchronously). */
export async function eventually<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; last: ${String(last)}`);
}

/**
 * A global config whose `demo` agent is `sh -c SCRIPT`, sandboxed; `sandbox` lines are added
 * under `sandbox:` (indented by two spaces, e.g. `max_spawns: 2`).
 */
export function sandboxedScriptConfig(script: string, sandbox: readonly string[] = []): string {
  return [
    "agent: demo",
    "agents:",
    "  demo:",
    "    command: sh",
    `    args: ["-c", ${JSON.stringify(script)}]`,
    "sandbox:",
    "  enabled: true",
    ...sandbox.map((line) => `  ${line}`),
    "",
  ].join("\n");
}
