import { promises as fs } from "node:fs";
import path from "node:path";
import type { WmPaths } from "@wm/protocol";
import type { WorktreeRecord } from "./git-layout.ts";

/** Where an extra mount is checked against: the host user, the daemon and the sandbox's repository. */
export interface MountContext {
  homedir: string;
  worktree: WorktreeRecord;
  paths: Pick<WmPaths, "runtimeDir" | "stateDir" | "configDir">;
}

/**
 * A host location an extra mount may not reach without `force: true`. `match: "contains"`
 * refuses the path and its parents; `"overlaps"` (the default) also refuses anything inside it.
 */
export interface Refusal {
  path: string;
  reason: string;
  match?: "contains" | "overlaps";
  whenWritableOnly?: boolean;
}

const SECRETS = "holds secrets";

/** Credential files and directories, relative to the home directory. */
const HOME_SECRETS = [
  ".claude",
  ".claude.json",
  ".npmrc",
  ".git-credentials",
  ".docker",
  ".kube",
  ".config/gh",
  ".ssh",
  ".aws",
  ".gnupg",
  ".netrc",
  ".config/gcloud",
  ".azure",
  ".oci",
  ".config/doctl",
  ".terraform.d",
  ".pypirc",
  ".cargo/credentials",
  ".cargo/credentials.toml",
  ".local/share/keyrings",
  ".password-store",
];

function refusalTable(ctx: MountContext): Refusal[] {
  const home = (p: string) => path.join(ctx.homedir, p);
  return [
    { path: "/", reason: "is the host's whole filesystem", match: "contains" },
    { path: ctx.homedir, reason: "is your home directory", match: "contains" },
    ...HOME_SECRETS.map((p) => ({ path: home(p), reason: SECRETS })),
    {
      path: home(".gitconfig"),
      reason:
        "is git's configuration; written from a sandbox it can make git on the host run commands",
      whenWritableOnly: true,
    },
    {
      path: ctx.paths.runtimeDir,
      reason: "holds the wm daemon's socket, full control of the host",
    },
    { path: ctx.paths.stateDir, reason: "holds the wm daemon's state and logs" },
    {
      path: ctx.paths.configDir,
      reason: "holds the global config, which decides what sandboxes reach",
    },
    {
      path: path.dirname(ctx.worktree.worktreePath),
      reason: "holds the worktrees of other agents",
    },
    {
      path: path.dirname(ctx.worktree.commonDir),
      reason: "is the main worktree, with the repository and its project config",
    },
  ];
}

export function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** realpath of `p`, or of its deepest existing parent with the rest appended. */
async function realpathLoose(p: string): Promise<string> {
  try {
    return await fs.realpath(p);
  } catch {
    const parent = path.dirname(p);
    return parent === p ? p : path.join(await realpathLoose(parent), path.basename(p));
  }
}

/** The table with every path resolved like the mount sources it is compared with. */
export async function resolveRefusals(ctx: MountContext): Promise<Refusal[]> {
  return Promise.all(
    refusalTable(ctx).map(async (r) => ({ ...r, path: await realpathLoose(r.path) })),
  );
}

function relationOf(source: string, r: Refusal): string | undefined {
  if (source === r.path) return "is";
  if (inside(r.path, source)) return "contains";
  if (r.match !== "contains" && inside(source, r.path)) return "is inside";
  return undefined;
}

/** Which table entry refuses `source` (a realpath), as a reason; undefined when none does. */
export function locationReason(
  source: string,
  writable: boolean,
  refusals: readonly Refusal[],
): string | undefined {
  for (const r of refusals) {
    if (r.whenWritableOnly && !writable) continue;
    const relation = relationOf(source, r);
    const mode = r.whenWritableOnly ? " (mounted writable)" : "";
    if (relation) return `${relation} ${r.path}${mode}, which ${r.reason}`;
  }
  return undefined;
}
