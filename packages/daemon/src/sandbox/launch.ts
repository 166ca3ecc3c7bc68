import { promises as fs } from "node:fs";
import type { SandboxBackend, SandboxLaunch } from "../backends/sandbox-backend.ts";
import type { MountSpec } from "../backends/types.ts";
import type { DaemonContext } from "../context.ts";
import {
  hostCommandsProfileMount,
  pathWithHostCommands,
  writeHostCommandWrappers,
} from "../host-exec/wrappers.ts";
import {
  AgentConfigDirError,
  agentConfigDir,
  claudeCredentialMounts,
  GUEST_HOME,
} from "./credentials.ts";
import { resolveExtraMounts } from "./extra-mounts.ts";
import { gitLayoutMounts, type WorktreeRecord } from "./git-layout.ts";
import type { GitShadow } from "./git-shadow.ts";
import type { LaunchPlan } from "./launch-plan.ts";
import { locationReason, resolveRefusals } from "./mount-refusals.ts";
import { findShimBundle, type ShimRuntimes } from "./shim-runtime.ts";

/** What a plan needs from the disk and the daemon to become a launch. */
export interface LaunchIo {
  worktree: WorktreeRecord;
  /** The guest endpoint's directory, mounted into the sandbox. */
  endpointMount: MountSpec;
  /** The worktree's private git area, prepared for this sandbox. */
  gitShadow: GitShadow;
  /** The daemon's shim runtimes, built once per shim and node. */
  shimRuntimes: ShimRuntimes;
  /** Asked for the image's PATH when host commands get wrappers. */
  backend: SandboxBackend;
}

/**
 * A launch plan made real: the shim runtime prepared, every mount found on disk (git layout,
 * shim, endpoint, credentials, extra mounts), host-command wrappers written and put on PATH.
 */
export async function resolveLaunch(
  daemon: DaemonContext,
  plan: LaunchPlan,
  io: LaunchIo,
): Promise<SandboxLaunch> {
  const shim = await io.shimRuntimes.prepare({
    stateDir: daemon.paths.stateDir,
    shimBundle: findShimBundle(daemon.env),
  });
  const configDir = agentConfigDir(plan.agentConfigDir, plan.agent, daemon.homedir);
  if (configDir !== undefined) await checkAgentConfigDir(configDir, daemon, io.worktree);
  const mounts: MountSpec[] = [
    ...(await gitLayoutMounts(io.worktree, io.gitShadow)),
    ...shim.mounts,
    io.endpointMount,
    ...(await claudeCredentialMounts(daemon.homedir, plan.user, configDir)),
    ...(await resolveExtraMounts(plan.extraMounts, {
      homedir: daemon.homedir,
      worktree: io.worktree,
      paths: daemon.paths,
    })),
  ];
  const env = { ...plan.env };
  if (configDir !== undefined) env.CLAUDE_CONFIG_DIR = `${GUEST_HOME}/.claude`;
  if (plan.hostCommands.length > 0) {
    const endpointDir = io.endpointMount.source;
    await writeHostCommandWrappers(endpointDir, plan.hostCommands);
    mounts.push(hostCommandsProfileMount(endpointDir));
    env.PATH = pathWithHostCommands(await io.backend.imageEnv(plan.image));
  }
  return {
    name: plan.name,
    image: plan.image,
    user: plan.user,
    workdir: plan.workdir,
    command: plan.command,
    env,
    mounts,
    labels: plan.labels,
    terminal: plan.terminal,
    limits: plan.limits,
    ociRuntime: plan.ociRuntime,
  };
}

/** The owner of the worktree is the user the agent runs as, so its files stay theirs. */
export async function worktreeOwner(worktree: string): Promise<{ uid: number; gid: number }> {
  const st = await fs.stat(worktree);
  return { uid: st.uid, gid: st.gid };
}

/**
 * `sandbox.agent_config_dir` may be the agent's own directory on the host (`~/.claude`, which
 * the mount refusals list as holding secrets: sharing it is the point of the key), never a
 * directory that holds or sits in other secrets, the daemon's state or a socket.
 */
async function checkAgentConfigDir(
  dir: string,
  daemon: DaemonContext,
  worktree: WorktreeRecord,
): Promise<void> {
  const real = await fs.realpath(dir).catch(() => dir);
  const own = new Set([".claude", ".claude.json"].map((f) => `${daemon.homedir}/${f}`));
  const refusals = (
    await resolveRefusals({ homedir: daemon.homedir, worktree, paths: daemon.paths })
  ).filter((r) => !own.has(r.path));
  const why = locationReason(real, true, refusals);
  if (why)
    throw new AgentConfigDirError(
      `sandbox.agent_config_dir: ${dir} ${why}; name the agent's own configuration directory, or remove the key`,
    );
}
