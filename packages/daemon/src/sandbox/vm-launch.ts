import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { RpcError } from "@wm/protocol";
import type { SandboxRuntime } from "../backends/sandbox-backend.ts";
import type { VmLaunch } from "../backends/vm/vm-sandbox.ts";
import { within } from "../backends/vm/vm-shares.ts";
import type { WmConfig } from "../config/index.ts";
import { worktreeBaseDir } from "../worktrees/names.ts";
import type { WorktreeRecord } from "./git-layout.ts";
import { gitShadowRoot } from "./git-shadow.ts";
import { imageChoice } from "./launch-plan.ts";
import { parseBytes } from "./limits.ts";

/** `sandbox.backend: lima` (workmux's name) and `vm` choose the VM backend. */
export function usesVm(config: Pick<WmConfig, "sandbox">): boolean {
  return config.sandbox.backend === "lima" || config.sandbox.backend === "vm";
}

/** What `wm sandbox list` shows as a VM sandbox's image. */
export const VM_IMAGE = "wm-vm (offline Debian 12)";

/** Where a sandbox of `config` runs and from what: the VM backend, or imageChoice's engine. */
export function sandboxTarget(
  config: WmConfig,
  agent?: string | undefined,
): { runtime: SandboxRuntime; image: string } {
  return usesVm(config) ? { runtime: "vm", image: VM_IMAGE } : imageChoice(config, { agent });
}

const DEFAULTS = { cpus: 4, memory: "4GiB", disk: "100GiB" };

function sizeOf(key: string, value: string): number {
  try {
    return parseBytes(value);
  } catch {
    throw new RpcError(
      "ConfigInvalid",
      `sandbox.lima.${key}: ${JSON.stringify(value)} is not a size (e.g. 4GiB)`,
    );
  }
}

/**
 * The VM a sandbox of `worktree` runs in, and the directories that VM exports whole.
 *
 * `project` (default): one VM per repository, exporting the project's worktree directory
 * (`worktree_dir`), its git dir read-only, `.git/worktrees` and the project's git shadows
 * read-write: every worktree of the project, nothing of another project. A worktree outside
 * `worktree_dir` is exported by itself.
 *
 * `shared`: one VM for every project under `sandbox.lima.projects_dir`, exporting that
 * directory and every git shadow read-write; projects are not kept from one another (the
 * choice workmux offers, for machines that cannot hold a VM per project).
 */
export function vmLaunchFor(
  config: WmConfig,
  worktree: WorktreeRecord,
  host: { stateDir: string; homedir: string },
): VmLaunch {
  const lima = config.sandbox.lima ?? {};
  const cpus = Math.max(1, Math.min(lima.cpus ?? DEFAULTS.cpus, os.cpus().length));
  const memoryMiB = Math.floor(sizeOf("memory", lima.memory ?? DEFAULTS.memory) / (1 << 20));
  if (memoryMiB < 256)
    throw new RpcError(
      "ConfigInvalid",
      `sandbox.lima.memory: ${memoryMiB} MiB is too little for a VM (256 MiB at least)`,
    );
  const sized = {
    cpus,
    memoryMiB,
    diskBytes: sizeOf("disk", lima.disk ?? DEFAULTS.disk),
    provision: lima.provision,
    skipDefaultProvision: lima.skip_default_provision,
  };
  if (lima.isolation === "shared") {
    const dir = lima.projects_dir;
    if (!dir)
      throw new RpcError(
        "ConfigInvalid",
        "sandbox.lima.isolation: shared needs sandbox.lima.projects_dir (the directory holding every project the shared VM serves)",
      );
    const projects = path.resolve(host.homedir, dir.replace(/^~(?=$|\/)/, host.homedir));
    for (const p of [worktree.worktreePath, worktree.commonDir]) {
      if (!within(p, projects))
        throw new RpcError(
          "Refused",
          `${p} is outside sandbox.lima.projects_dir (${projects}); the shared VM serves only what is under it`,
        );
    }
    return {
      ...sized,
      vmName: "wm-shared",
      scope: "shared",
      roots: [
        { hostPath: projects, readOnly: false },
        { hostPath: path.join(host.stateDir, "git"), readOnly: false },
      ],
    };
  }
  const repoRoot = path.dirname(worktree.commonDir);
  const base = worktreeBaseDir(config.worktree_dir, repoRoot, host.homedir);
  const broad = base === "/" || base === host.homedir || within(host.homedir, base);
  const worktrees = !broad && within(worktree.worktreePath, base) ? base : worktree.worktreePath;
  const id = createHash("sha256").update(worktree.commonDir).digest("hex").slice(0, 8);
  const project =
    path
      .basename(repoRoot)
      .replace(/[^A-Za-z0-9_.-]/g, "-")
      .slice(0, 40) || "project";
  return {
    ...sized,
    vmName: `wm-${project}-${id}`,
    scope: worktree.commonDir,
    roots: [
      { hostPath: worktrees, readOnly: false },
      { hostPath: path.join(worktree.commonDir, "worktrees"), readOnly: false },
      { hostPath: worktree.commonDir, readOnly: true },
      { hostPath: gitShadowRoot(host.stateDir, worktree.commonDir), readOnly: false },
    ],
  };
}
