import { promises as fs } from "node:fs";
import { CLIENT_ENV_ALLOWED, PROTOCOL_VERSION, RpcError, WM_VERSION } from "@wm/protocol";
import type { ContainerBackend, ContainerSpec, MountSpec, RuntimeName } from "../backends/types.ts";
import type { WmConfig } from "../config/index.ts";
import type { DaemonContext } from "../context.ts";
import {
  hostCommandsProfileMount,
  pathWithHostCommands,
  writeHostCommandWrappers,
} from "../host-exec/wrappers.ts";
import { checkImage } from "../images/check-image.ts";
import { claudeCredentialMounts, GUEST_HOME } from "./credentials.ts";
import { resolveExtraMounts } from "./extra-mounts.ts";
import { gitLayoutMounts, type WorktreeRecord } from "./git-layout.ts";
import type { GitShadow } from "./git-shadow.ts";
import { parseBytes } from "./limits.ts";
import { recordLabels } from "./record-labels.ts";
import { findShimBundle, type ShimRuntimes } from "./shim-runtime.ts";

/** Labels that mark a container as this daemon's (`wm.home` tells apart daemons of one user). */
export function ownLabels(daemon: DaemonContext): Record<string, string> {
  return { "wm.owner": String(process.getuid?.() ?? 0), "wm.home": daemon.homeId };
}

export interface LaunchInput {
  id: string;
  /** The sandbox's name in `wm sandbox list`. */
  name: string;
  containerName: string;
  image: string;
  worktree: WorktreeRecord;
  owner: { uid: number; gid: number };
  command: string[];
  tty: boolean;
  interactive: boolean;
  clientEnv: Readonly<Record<string, string>>;
  endpointMount: MountSpec;
  /** A TCP endpoint's address and token hash, carried in the labels for a rebuild. */
  tcp?: { host: string; port: number; tokenHash: string } | undefined;
  /** The worktree's private git area, prepared for this sandbox. */
  gitShadow: GitShadow;
  /** The daemon's shim runtimes, built once per shim and node. */
  shimRuntimes: ShimRuntimes;
  config: WmConfig;
}

/** The environment a sandbox gets: fixed wm variables, the client's terminal, passthrough by name. */
export function sandboxEnv(
  input: LaunchInput,
  daemonEnv: Readonly<Record<string, string | undefined>>,
) {
  const env: Record<string, string> = {
    WM_SANDBOX_GUEST: "1",
    WM_SANDBOX_ID: input.id,
    WM_WORKTREE: input.worktree.worktreePath,
    HOME: GUEST_HOME,
  };
  for (const name of CLIENT_ENV_ALLOWED) {
    const v = input.clientEnv[name];
    if (v !== undefined) env[name] = v;
  }
  for (const name of input.config.sandbox.env_passthrough) {
    const v = input.clientEnv[name] ?? daemonEnv[name];
    if (v !== undefined) env[name] = v;
  }
  for (const [name, value] of Object.entries(input.config.sandbox.env ?? {}))
    env[name] = String(value);
  return env;
}

export async function buildContainerSpec(
  daemon: DaemonContext,
  input: LaunchInput,
): Promise<ContainerSpec> {
  const shim = await input.shimRuntimes.prepare({
    stateDir: daemon.paths.stateDir,
    shimBundle: findShimBundle(daemon.env),
  });
  const wt = input.worktree.worktreePath;
  const mounts: MountSpec[] = [
    ...(await gitLayoutMounts(input.worktree, input.gitShadow)),
    ...shim.mounts,
    input.endpointMount,
    ...(await claudeCredentialMounts(daemon.homedir, input.owner)),
    ...(await resolveExtraMounts(input.config.sandbox.extra_mounts, {
      homedir: daemon.homedir,
      worktree: input.worktree,
      paths: daemon.paths,
    })),
  ];
  const env = sandboxEnv(input, daemon.env);
  const hostCommands = input.config.sandbox.host_commands;
  if (hostCommands.length > 0) {
    const endpointDir = input.endpointMount.source;
    await writeHostCommandWrappers(endpointDir, hostCommands);
    mounts.push(hostCommandsProfileMount(endpointDir));
    const image = await daemon.sandboxes
      .backend(runtimeFor(input.config))
      .inspectImage(input.image);
    env.PATH = pathWithHostCommands(image?.env);
  }
  const container = input.config.sandbox.container;
  return {
    name: input.containerName,
    image: input.image,
    user: `${input.owner.uid}:${input.owner.gid}`,
    workdir: wt,
    cmd: input.command,
    env,
    mounts,
    labels: {
      ...ownLabels(daemon),
      ...recordLabels({
        id: input.id,
        name: input.name,
        worktree: wt,
        git: {
          commonDir: input.worktree.commonDir,
          adminDir: input.worktree.adminDir,
          branch: input.worktree.branch ?? null,
        },
        user: `${input.owner.uid}:${input.owner.gid}`,
        tty: input.tty,
        transport: input.config.sandbox.rpc_transport,
        tcp: input.tcp,
      }),
      "wm.version": WM_VERSION,
      "wm.protocol": String(PROTOCOL_VERSION),
    },
    tty: input.tty,
    openStdin: input.interactive,
    pidsLimit: container.pids_limit,
    memoryBytes: container.memory ? parseBytes(container.memory) : undefined,
    cpus: container.cpus,
    // Only a runtime the engine named when asked (sandbox/settings-check.ts) gets here.
    ociRuntime: container.oci_runtime,
  };
}

/** The owner of the worktree is the user the agent runs as, so its files stay theirs. */
export async function worktreeOwner(worktree: string): Promise<{ uid: number; gid: number }> {
  const st = await fs.stat(worktree);
  return { uid: st.uid, gid: st.gid };
}

/** The container engine a sandbox of `config` runs on. */
export function runtimeFor(config: WmConfig): RuntimeName {
  return config.sandbox.container.runtime === "podman" ? "podman" : "docker";
}

export async function requireImage(backend: ContainerBackend, image: string): Promise<void> {
  const check = await checkImage(backend, image);
  if (check.state === "missing" || check.state === "stale") {
    throw new RpcError(
      "Unavailable",
      `${check.detail}; ${check.state === "stale" ? "rebuild" : "build"} it with \`${check.fix}\``,
      {
        image,
        state: check.state,
        fix: check.fix,
      },
    );
  }
}
