import path from "node:path";
import { type ExecStart, RpcError } from "@wm/protocol";
import type { WmConfig } from "../config/index.ts";
import { loadGlobalConfig } from "../config/load.ts";
import { globalConfigDirs } from "../config/locate.ts";
import type { DaemonContext } from "../context.ts";
import { createWhich } from "../doctor/host-probes.ts";
import { gitLayoutMounts, type WorktreeRecord } from "../sandbox/git-layout.ts";
import { gitShadowFor } from "../sandbox/git-shadow.ts";
import { checkCommandName, resolveHostCwd } from "./cwd.ts";
import { checkGuestEnv, hostExecEnvWithDropped } from "./env.ts";
import { bwrapArgs } from "./fence.ts";
import { type BubblewrapProbe, probeBubblewrap } from "./probe.ts";

/** Whether bubblewrap works here, learned once per daemon: a trial run costs a spawn. */
let probed: Promise<BubblewrapProbe> | undefined;
function bubblewrap(daemon: DaemonContext): Promise<BubblewrapProbe> {
  const which = createWhich(daemon.env);
  // WM_BWRAP names the binary when it is not on PATH; one that is not there counts as missing.
  const chosen = daemon.env.WM_BWRAP;
  probed ??= probeBubblewrap((cmd) =>
    cmd === "bwrap" && chosen ? which(chosen) : which(cmd),
  ).then((p) => {
    // Installed later, or fixed later: ask again next time rather than refuse forever.
    if (!p.path || !p.userns) probed = undefined;
    return p;
  });
  return probed;
}

/** The fence's own refusals (a writable path that would open it) name the real config file. */
function fence(file: string, build: () => string[]): string[] {
  try {
    return build();
  } catch (err) {
    if (!(err instanceof RpcError)) throw err;
    throw refused("Refused", `${err.message} (in ${file})`, EXIT_REFUSED, {
      key: "sandbox.host_exec.writable",
      file,
    });
  }
}

/**
 * Signals a caller sends go to the host child's whole process group, bwrap's two processes
 * included. bwrap has no handler for them and would die, taking the tool with it before the
 * tool's own handler (a REPL's Ctrl-C, a trap on TERM) could run. So bwrap starts with them
 * ignored (`env --ignore-signal`, coreutils ≥ 8.31) and the tool, inside, with them back at
 * their defaults (`env --default-signal`). The tool's end still ends bwrap; SIGKILL still
 * kills it all (with `--die-with-parent` for what runs inside).
 */
const FORWARDED_SIGNALS = "HUP,INT,QUIT,TERM,USR1,USR2";

/** Exit codes a shell gives: 127 not found (or not allowed), 126 found but not runnable. */
export const EXIT_NOT_ALLOWED = 127;
export const EXIT_REFUSED = 126;

/** What the runner starts, and what the audit line says about it. */
export interface HostExecPlan {
  name: string;
  /** As the caller gave it, for the audit line. */
  argv: string[];
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  fenced: boolean;
  /** Names the user's own env settings tried to pass that can change what a tool runs. */
  droppedEnv: string[];
  /** A daemon running as root runs the tool as the sandbox's user, as the container does. */
  runAs?: { uid: number; gid: number } | undefined;
}

/** The sandbox's user when the daemon is root and that user is not; otherwise the daemon's. */
function runAsOf(user: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = user.split(":").map(Number);
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid === 0) return undefined;
  return { uid: uid as number, gid: gid as number };
}

function refused(
  code: "NotFound" | "Refused" | "Unavailable" | "InvalidParams",
  message: string,
  exitCode: number,
  data: Record<string, unknown> = {},
): RpcError {
  return new RpcError(code, message, { exitCode, ...data });
}

function expandHome(p: string, home: string): string {
  return p === "~" ? home : p.startsWith("~/") ? path.join(home, p.slice(2)) : p;
}

async function globalConfig(daemon: DaemonContext): Promise<{ config: WmConfig; file: string }> {
  const { env, homedir } = daemon;
  const loaded = await loadGlobalConfig({ env, homedir }).catch((err: Error) => {
    throw refused(
      "Unavailable",
      `the global config does not load, so no host command is allowed: ${err.message}`,
      EXIT_REFUSED,
    );
  });
  const file =
    loaded.files.global ?? path.join(globalConfigDirs(env, homedir)[0] ?? "", "config.yaml");
  return { config: loaded.config, file };
}

/**
 * Decide everything about one host command before anything runs: that its name is allowed and
 * found on the host, where it runs (inside the caller's worktree), with which environment, and
 * inside which fence. Every refusal says what to change, and where.
 */
export async function planHostExec(
  daemon: DaemonContext,
  sandboxId: string,
  start: ExecStart,
): Promise<HostExecPlan> {
  const record = daemon.sandboxes.get(sandboxId);
  if (!record) throw refused("NotFound", `sandbox ${sandboxId} no longer exists`, EXIT_REFUSED);
  const [name, ...args] = start.argv;
  if (name === undefined) throw refused("InvalidParams", "no command given", EXIT_REFUSED);
  try {
    checkCommandName(name);
  } catch (err) {
    throw refused("InvalidParams", (err as Error).message, EXIT_NOT_ALLOWED);
  }
  const { config, file } = await globalConfig(daemon);
  if (!config.sandbox.host_commands.includes(name)) {
    throw refused(
      "NotFound",
      `${name}: not a host command of this sandbox; to allow it, add it to sandbox.host_commands in ${file}`,
      EXIT_NOT_ALLOWED,
      { key: "sandbox.host_commands", file },
    );
  }
  const which = createWhich(daemon.env);
  const binary = await which(name);
  if (!binary) {
    throw refused(
      "NotFound",
      `${name}: listed in sandbox.host_commands but not found on the host (PATH of the wm daemon: ${daemon.env.PATH ?? "unset"})`,
      EXIT_NOT_ALLOWED,
    );
  }
  try {
    checkGuestEnv(start.env);
  } catch (err) {
    throw refused("InvalidParams", (err as Error).message, EXIT_REFUSED);
  }
  let cwd: string;
  try {
    cwd = await resolveHostCwd(record.worktree, start.cwd);
  } catch (err) {
    throw refused("Refused", (err as Error).message, EXIT_REFUSED);
  }
  const home = daemon.homedir;
  const { env, dropped } = hostExecEnvWithDropped({
    daemonEnv: daemon.env,
    home,
    guestEnv: start.env,
    passthrough: config.sandbox.env_passthrough,
    sandboxEnv: Object.fromEntries(
      Object.entries(config.sandbox.env ?? {}).map(([k, v]) => [k, String(v)]),
    ),
  });

  const probe = await bubblewrap(daemon);
  const bwrap = probe.path;
  if (bwrap && !probe.userns) {
    throw refused(
      "Unavailable",
      `${name}: host commands run inside bubblewrap, which cannot build its sandbox for this user: ${probe.detail}`,
      EXIT_REFUSED,
    );
  }
  if (!bwrap) {
    if (config.sandbox.dangerously_allow_unsandboxed_host_exec !== true) {
      throw refused(
        "Unavailable",
        `${name}: host commands run inside bubblewrap, which is not installed on the host; install it (Debian: apt install bubblewrap), or set sandbox.dangerously_allow_unsandboxed_host_exec: true in ${file} to run them without it`,
        EXIT_REFUSED,
        { key: "sandbox.dangerously_allow_unsandboxed_host_exec", file },
      );
    }
    return {
      name,
      argv: start.argv,
      file: binary,
      args,
      cwd,
      env,
      fenced: false,
      droppedEnv: dropped,
      runAs: runAsOf(record.user),
    };
  }

  const worktree: WorktreeRecord = {
    worktreePath: record.worktree,
    commonDir: record.git.commonDir,
    adminDir: record.git.adminDir,
    branch: record.git.branch,
  };
  const gitMounts = (
    await gitLayoutMounts(worktree, gitShadowFor(daemon.paths.stateDir, worktree))
  ).filter((m) => m.source !== record.worktree || m.target !== record.worktree);
  const known = await daemon.worktrees.known();
  const hide = new Set<string>([
    path.dirname(record.git.commonDir),
    ...known.map((k) => k.path),
    ...daemon.sandboxes.registry.all().map((r) => r.worktree),
    daemon.paths.runtimeDir,
    daemon.paths.stateDir,
    daemon.paths.configDir,
  ]);
  hide.delete(record.worktree);
  const envBinary = (await which("env")) ?? "/usr/bin/env";
  const fenceArgs = fence(file, () =>
    bwrapArgs(
      {
        home,
        worktree: record.worktree,
        gitMounts,
        writable: (config.sandbox.host_exec?.writable ?? []).map((p) => expandHome(p, home)),
        hide: [...hide],
        cwd,
        runtimeDir: daemon.env.XDG_RUNTIME_DIR,
        dropTo: runAsOf(record.user),
      },
      [envBinary, `--default-signal=${FORWARDED_SIGNALS}`, "--", binary, ...args],
    ),
  );
  return {
    name,
    argv: start.argv,
    file: envBinary,
    args: [`--ignore-signal=${FORWARDED_SIGNALS}`, "--", bwrap, ...fenceArgs],
    cwd,
    env,
    fenced: true,
    droppedEnv: dropped,
  };
}
