import path from "node:path";
import { z } from "zod";
import { parseJson } from "../state/parse.ts";

/** What a moved-aside `tracked-worktrees.json` still tells, field by field. */
export interface Salvaged {
  /** Repositories (common dirs) its entries named. */
  commonDirs: string[];
  /** Worktrees its entries ran sandboxed. */
  sandboxed: Set<string>;
  /** tmux servers its entries' windows were on. */
  tmuxSockets: string[];
}

const absolute = z
  .string()
  .refine((p) => path.isAbsolute(p))
  .optional()
  .catch(undefined);
const salvageable = z.object({ worktrees: z.array(z.unknown()) });
const entry = z.object({
  path: absolute,
  repo: absolute,
  commonDir: absolute,
  sandbox: z.boolean().optional().catch(undefined),
  tmux: z.object({ socketPath: absolute }).nullable().optional().catch(undefined),
});

/**
 * Whatever of a damaged state file's entries is still legible (a file of another version, or
 * one whose entries fail the schema). Only ever widens what the rebuild looks at, or makes a
 * worktree more isolated: nothing here can drop an entry or turn a sandbox off.
 */
export function salvage(text: string | undefined): Salvaged {
  const found: Salvaged = { commonDirs: [], sandboxed: new Set(), tmuxSockets: [] };
  const json = text === undefined ? undefined : parseJson(text);
  const doc = json?.ok ? salvageable.safeParse(json.value) : undefined;
  for (const raw of doc?.success ? doc.data.worktrees : []) {
    const e = entry.safeParse(raw);
    if (!e.success) continue;
    const { path: worktree, repo, commonDir, sandbox, tmux } = e.data;
    if (commonDir) found.commonDirs.push(commonDir);
    if (repo) found.commonDirs.push(path.join(repo, ".git"));
    if (worktree && sandbox) found.sandboxed.add(worktree);
    if (tmux?.socketPath && !found.tmuxSockets.includes(tmux.socketPath))
      found.tmuxSockets.push(tmux.socketPath);
  }
  return found;
}
