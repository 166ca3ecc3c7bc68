import { stat } from "node:fs/promises";
import path from "node:path";
import { RpcError } from "@wm/protocol";
import { PlantedPathError, type Refusal, withDirUnder } from "../fs/no-follow.ts";

/** The prompt file's name in a worktree's git admin dir (`<common dir>/worktrees/<name>/`). */
export const PROMPT_FILE = "wm-prompt.md";

const FOUND: Record<Refusal, string> = {
  symlink: "is a symbolic link",
  "not-directory": "is not a directory",
  directory: "is a directory",
};

/** Where a linked worktree lives, as wm recorded it when it created the worktree. */
export interface PromptTarget {
  /** The worktree (its owner owns the file). */
  path: string;
  /** The repository's `.git` directory. */
  commonDir: string;
  /** `<commonDir>/worktrees/<name>`. */
  adminDir: string;
}

/**
 * Writes the agent's prompt into the worktree's git admin dir, outside the worktree
 * (docs/decisions/0010): git never lists it as untracked, so it neither blocks `wm merge` / `wm rm`
 * nor ends up in an agent's `git add -A`, and `git worktree remove` deletes it with the admin dir.
 * A sandbox has that admin dir mounted at the same path, so the pane's `"$(cat <file>)"` reads it
 * inside. The path comes from wm's record, and nothing below the common dir is followed if it is
 * a symbolic link: the admin dir must be a plain directory, and a link at the file's name is
 * replaced, never written through.
 */
export async function writePromptFile(target: PromptTarget, prompt: string): Promise<string> {
  const rel = path.relative(target.commonDir, target.adminDir);
  if (path.dirname(rel) !== "worktrees") {
    throw new RpcError(
      "InternalError",
      `${target.adminDir} is not a worktree admin dir of ${target.commonDir}; the prompt was not written`,
    );
  }
  const { uid, gid } = await stat(target.path);
  try {
    await withDirUnder(target.commonDir, rel, { owner: { uid, gid } }, (dir) =>
      dir.writeFile(PROMPT_FILE, prompt.endsWith("\n") ? prompt : `${prompt}\n`, 0o644),
    );
  } catch (err) {
    if (!(err instanceof PlantedPathError)) throw err;
    throw new RpcError(
      "Conflict",
      `${path.join(target.commonDir, err.rel)} ${FOUND[err.kind]}, so the prompt was not written (the worktree is at ${target.path})`,
    );
  }
  return path.join(target.adminDir, PROMPT_FILE);
}
