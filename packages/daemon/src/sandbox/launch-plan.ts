import { CLIENT_ENV_ALLOWED, PROTOCOL_VERSION, WM_VERSION } from "@wm/protocol";
import type { SandboxLaunch } from "../backends/sandbox-backend.ts";
import type { RuntimeName } from "../backends/types.ts";
import type { WmConfig } from "../config/index.ts";
import { agentNameOf, sandboxImageFor } from "../images/image-labels.ts";
import { GUEST_HOME } from "./credentials.ts";
import type { WorktreeRecord } from "./git-layout.ts";
import { parseBytes } from "./limits.ts";
import { recordLabels } from "./record-labels.ts";

/*
 * Config → what a sandbox runs, with no I/O: the runtime, the image, the agent, the command,
 * the environment, the labels and the limits. Mounts that need the disk (git layout, shim,
 * credentials, extra mounts) and the image's own PATH are added by the caller (launch.ts).
 */

/** The part of the config that names a sandbox's engine and image. */
export interface ImageSettings {
  agent: string;
  sandbox: { image?: string | undefined; container?: { runtime?: string | undefined } };
}

/** The engine, agent and image a sandbox (or an image build, or doctor) uses. */
export interface ImageChoice {
  runtime: RuntimeName;
  /** The agent's name (`claude`), as in `wm-sandbox:<agent>`. */
  agent: string;
  image: string;
}

/** The container engine a sandbox of `config` runs on. */
export function runtimeFor(config: ImageSettings): RuntimeName {
  return config.sandbox.container?.runtime === "podman" ? "podman" : "docker";
}

/**
 * The engine, agent and image for `config`; `agent` is a command chosen for one worktree or
 * build (`--agent`), `runtime` an engine asked for by name (`wm sandbox build --runtime`).
 */
export function imageChoice(
  config: ImageSettings,
  opts: { agent?: string | undefined; runtime?: RuntimeName | undefined } = {},
): ImageChoice {
  return {
    runtime: opts.runtime ?? runtimeFor(config),
    agent: agentNameOf(opts.agent ?? config.agent),
    image: sandboxImageFor(config, opts.agent),
  };
}

/** Labels that mark a sandbox as this daemon's (`wm.home` tells apart daemons of one user). */
export function ownLabels(host: { uid: number; homeId: string }): Record<string, string> {
  return { "wm.owner": String(host.uid), "wm.home": host.homeId };
}

/** What the client asked to run, and the ids the manager gave it. */
export interface LaunchRequest {
  id: string;
  /** The sandbox's name in `wm sandbox list`. */
  name: string;
  /** The name the engine shows. */
  engineName: string;
  /** A command chosen for this sandbox (`--agent`); the config's agent otherwise. */
  agent?: string | undefined;
  owner: { uid: number; gid: number };
  command: readonly string[];
  tty: boolean;
  interactive: boolean;
  size?: { rows: number; cols: number } | undefined;
  clientEnv: Readonly<Record<string, string>>;
  /** A TCP endpoint's address and token hash, carried in the labels for a rebuild. */
  tcp?: { host: string; port: number; tokenHash: string } | undefined;
}

/** What the daemon adds: its environment (for passthrough) and the labels that mark its own. */
export interface LaunchHost {
  env: Readonly<Record<string, string | undefined>>;
  ownLabels: Readonly<Record<string, string>>;
}

/** A sandbox launch before the disk is read: everything but the mounts and the image's PATH. */
export interface LaunchPlan extends Omit<SandboxLaunch, "mounts"> {
  runtime: RuntimeName;
  agent: string;
  transport: WmConfig["sandbox"]["rpc_transport"];
  /** Commands the guest gets host-command wrappers for (written beside the endpoint). */
  hostCommands: WmConfig["sandbox"]["host_commands"];
  /** `sandbox.extra_mounts` as configured, resolved on disk by the caller. */
  extraMounts: WmConfig["sandbox"]["extra_mounts"];
  /** `sandbox.agent_config_dir` as configured (`~` and `{agent}` not yet expanded). */
  agentConfigDir: string | undefined;
}

/**
 * The engine creates the TTY at 0x0 and resizes it only once the command runs; set the
 * client's size first so the command's first look at its terminal is right.
 */
export function withTerminalSize(
  command: readonly string[],
  size: { rows: number; cols: number },
): string[] {
  return [
    "/bin/sh",
    "-c",
    'stty rows "$0" cols "$1" 2>/dev/null; shift; exec "$@"',
    String(size.rows),
    String(size.cols),
    ...command,
  ];
}

/** The environment a sandbox gets: fixed wm variables, the client's terminal, passthrough by name. */
export function sandboxEnv(
  config: WmConfig,
  worktree: WorktreeRecord,
  req: Pick<LaunchRequest, "id" | "clientEnv">,
  daemonEnv: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const env: Record<string, string> = {
    WM_SANDBOX_GUEST: "1",
    WM_SANDBOX_ID: req.id,
    WM_WORKTREE: worktree.worktreePath,
    HOME: GUEST_HOME,
  };
  for (const name of CLIENT_ENV_ALLOWED) {
    const v = req.clientEnv[name];
    if (v !== undefined) env[name] = v;
  }
  for (const name of config.sandbox.env_passthrough) {
    const v = req.clientEnv[name] ?? daemonEnv[name];
    if (v !== undefined) env[name] = v;
  }
  for (const [name, value] of Object.entries(config.sandbox.env ?? {})) env[name] = String(value);
  return env;
}

/** The launch plan of one sandbox: config + worktree record + request → a plain object. */
export function launchPlan(
  config: WmConfig,
  worktree: WorktreeRecord,
  req: LaunchRequest,
  host: LaunchHost,
): LaunchPlan {
  const { runtime, agent, image } = imageChoice(config, { agent: req.agent });
  const container = config.sandbox.container;
  const user = `${req.owner.uid}:${req.owner.gid}`;
  const wt = worktree.worktreePath;
  return {
    runtime,
    agent,
    image,
    name: req.engineName,
    user: req.owner,
    workdir: wt,
    command: req.tty && req.size ? withTerminalSize(req.command, req.size) : [...req.command],
    env: sandboxEnv(config, worktree, req, host.env),
    labels: {
      ...host.ownLabels,
      ...recordLabels({
        id: req.id,
        name: req.name,
        worktree: wt,
        git: {
          commonDir: worktree.commonDir,
          adminDir: worktree.adminDir,
          branch: worktree.branch ?? null,
        },
        user,
        tty: req.tty,
        transport: config.sandbox.rpc_transport,
        tcp: req.tcp,
      }),
      "wm.version": WM_VERSION,
      "wm.protocol": String(PROTOCOL_VERSION),
    },
    terminal: { tty: req.tty, stdin: req.interactive },
    limits: {
      pids: container.pids_limit,
      memoryBytes: container.memory ? parseBytes(container.memory) : undefined,
      cpus: container.cpus,
    },
    // Only a runtime the engine named when asked (sandbox/settings-check.ts) gets here.
    ociRuntime: container.oci_runtime,
    transport: config.sandbox.rpc_transport,
    hostCommands: config.sandbox.host_commands,
    extraMounts: config.sandbox.extra_mounts,
    agentConfigDir: config.sandbox.agent_config_dir,
  };
}
