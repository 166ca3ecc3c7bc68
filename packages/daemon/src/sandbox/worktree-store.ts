import { promises as fs } from "node:fs";
import path from "node:path";
import { atomicWrite, readNoFollow } from "../fs/atomic-write.ts";
import { recordWorktree, type WorktreeRecord } from "./git-layout.ts";

/**
 * The git facts of each worktree, read once — when the daemon first meets the worktree,
 * before any sandbox has run in it — and reused for every later sandbox, so an agent's later
 * edits to its worktree can never steer which git directories get mounted.
 */
export class WorktreeStore {
  readonly #file: string;
  #records: Record<string, WorktreeRecord> | undefined;

  constructor(stateDir: string) {
    this.#file = path.join(stateDir, "worktrees.json");
  }

  /**
   * @param recordedAtCreation what `wm add` recorded when it made the worktree, if it did;
   * preferred over anything read now.
   */
  async get(
    worktreePath: string,
    recordedAtCreation?: (real: string) => Promise<WorktreeRecord | undefined>,
  ): Promise<WorktreeRecord> {
    const real = await fs.realpath(worktreePath);
    const fromAdd = await recordedAtCreation?.(real);
    if (fromAdd) return fromAdd;
    const records = await this.#load();
    const known = records[real];
    if (known) return known;
    const record = await recordWorktree(real);
    records[real] = record;
    await atomicWrite(this.#file, `${JSON.stringify(records, null, 2)}\n`);
    return record;
  }

  async #load(): Promise<Record<string, WorktreeRecord>> {
    if (!this.#records) {
      try {
        this.#records = JSON.parse(await readNoFollow(this.#file)) as Record<
          string,
          WorktreeRecord
        >;
      } catch {
        this.#records = {};
      }
    }
    return this.#records;
  }
}
