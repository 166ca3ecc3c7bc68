import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { WM_BIN } from "./repo-root.ts";
import { runWm } from "./run-wm.ts";

export interface SandboxClient {
  child: ChildProcess;
  /** Everything the client printed on stdout so far. */
  stdout(): string;
  /** Everything it printed on stderr so far. */
  stderr(): string;
  /** Resolves with the client's exit code. */
  closed: Promise<number | null>;
}

/** `wm sandbox run --worktree WT -- sh -c SCRIPT` in the background, as a pane would run it. */
export function startSandboxClient(
  env: NodeJS.ProcessEnv,
  worktree: string,
  script: string,
): SandboxClient {
  const child = spawn(
    process.execPath,
    [WM_BIN, "sandbox", "run", "--worktree", worktree, "--", "sh", "-c", script],
    {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, stdout: () => out, stderr: () => err, closed };
}

export interface ListedSandbox {
  id: string;
  name: string;
  containerId: string;
  state: string;
  command: string[];
  worktree: string;
  /** Clients attached to its terminal. */
  attached: number;
}

/** Polls `wm sandbox list` until a running sandbox matches, and returns it. */
export async function waitForRunningSandbox(
  env: NodeJS.ProcessEnv,
  matches: (s: ListedSandbox) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<ListedSandbox> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const res = await runWm(["sandbox", "list", "--json"], { env });
    last = res.code === 0 ? res.stdout : `exit ${res.code}: ${res.stderr}`;
    // A listing can fail while a daemon is being replaced; the next one answers.
    const found =
      res.code === 0
        ? (JSON.parse(res.stdout).sandboxes as ListedSandbox[]).find(
            (s) => s.state === "running" && matches(s),
          )
        : undefined;
    if (found) return found;
    await sleep(100);
  }
  throw new Error(`no matching sandbox started; the last listing was:\n${last}`);
}
