import path from "node:path";
import { RpcError } from "@wm/protocol";
import { globalConfigDirs } from "../config/locate.ts";
import type { CallContext } from "../context.ts";
import type { Handler } from "../rpc/dispatch.ts";
import { addWorktree } from "../worktrees/add.ts";
import { mergeWorktree } from "../worktrees/merge.ts";
import { assertBranchName } from "../worktrees/names.ts";
import { requireRepo } from "../worktrees/repo.ts";
import type { WorktreeEntry } from "../worktrees/state-store.ts";

/** The caller's own sandbox record and, when wm created its worktree, that worktree's entry. */
async function own(call: CallContext) {
  if (!call.sandbox) throw new RpcError("Refused", "this method is served to sandboxes only");
  const record = call.daemon.sandboxes.get(call.sandbox.id);
  if (!record) throw new RpcError("NotFound", `sandbox ${call.sandbox.id} no longer exists`);
  const svc = call.daemon.worktrees;
  const entry = (await svc.state.all()).find((e) => e.path === record.worktree);
  /** The main worktree comes from the daemon's record of the git dirs, never from the worktree. */
  const repoRoot = entry?.repo ?? path.dirname(record.git.commonDir);
  return { record, svc, entry, repoRoot };
}

function tmuxOf(entry: WorktreeEntry | undefined) {
  return entry?.tmux
    ? { socketPath: entry.tmux.socketPath, session: entry.tmux.session }
    : undefined;
}

/**
 * A new agent from inside a sandbox: always sandboxed, in the background, in the caller's tmux
 * server; the agent and pane commands are the host config's, never the caller's. Each request
 * whose params are valid counts against `sandbox.max_spawns`, whether or not the worktree is
 * then created, so a flood of failing requests is bounded too.
 */
export const agentSpawn: Handler<"agent.spawn"> = async (params, call) => {
  const { record, svc, entry, repoRoot } = await own(call);
  call.daemon.log.info(
    { sandbox: record.id, branch: params.branch },
    "guest asks to spawn an agent",
  );
  assertBranchName(params.branch);
  const loaded = await svc.loadConfig(await requireRepo(repoRoot, await svc.state.all()));
  const limit = loaded.config.sandbox.max_spawns;
  const count = await call.daemon.sandboxes.registry.countSpawn(record.id, limit);
  if (!count) throw new RpcError("NotFound", `sandbox ${record.id} no longer exists`);
  if (!count.counted) {
    const { env, homedir } = call.daemon;
    const file =
      loaded.files.global ?? path.join(globalConfigDirs(env, homedir)[0] ?? "", "config.yaml");
    call.daemon.log.warn(
      { sandbox: record.id, limit, used: count.used },
      "guest spawn refused: sandbox.max_spawns reached",
    );
    throw new RpcError(
      "Refused",
      `this sandbox may start at most ${limit} agent${limit === 1 ? "" : "s"} (sandbox.max_spawns: ${limit}) and has used them; to allow more, raise sandbox.max_spawns in the global config, ${file}`,
      { limit, used: count.used, key: "sandbox.max_spawns", file },
    );
  }
  const tmux = tmuxOf(entry);
  const res = await addWorktree(svc, {
    cwd: repoRoot,
    branch: params.branch,
    ...(params.base ? { base: params.base } : {}),
    ...(params.prompt ? { prompt: params.prompt } : {}),
    sandbox: true,
    background: true,
    openIfExists: false,
    noHooks: false,
    withChanges: false,
    ...(tmux ? { tmux } : {}),
  });
  return { handle: res.worktree.handle, branch: res.worktree.branch, path: res.worktree.path };
};

/**
 * Merge the caller's own worktree; naming any other is refused. The worktree is kept: the caller
 * runs in it. A merge that would change a file wm reads as configuration on the host is refused.
 */
export const agentMerge: Handler<"agent.merge"> = async (params, call) => {
  const { record, svc, entry } = await own(call);
  if (!entry) {
    throw new RpcError(
      "Refused",
      `${record.worktree} was not created by \`wm add\`; merge it from the host`,
    );
  }
  if (params.name !== undefined && params.name !== entry.handle && params.name !== entry.branch) {
    call.daemon.log.warn(
      { sandbox: record.id, asked: params.name },
      "guest asked to merge another worktree",
    );
    throw new RpcError(
      "Refused",
      `a sandbox may merge only its own worktree (${entry.handle}), not "${params.name}"`,
    );
  }
  const res = await mergeWorktree(
    svc,
    {
      cwd: entry.repo,
      name: entry.handle,
      ...(params.into ? { into: params.into } : {}),
      ...(params.strategy ? { strategy: params.strategy } : {}),
      ...(params.ignoreUncommitted ? { ignoreUncommitted: true } : {}),
      keep: true,
    },
    { initiator: "guest" },
  );
  return { branch: res.branch, target: res.target, commit: res.commit };
};
