import path from "node:path";
import { agentStatus } from "@wm/protocol";
import { z } from "zod";
import type { Logger } from "../log.ts";
import { type DocumentLoss, JsonDocument } from "../state/json-document.ts";

const entrySchema = z.object({
  handle: z.string(),
  branch: z.string(),
  /** Realpath of the worktree. */
  path: z.string(),
  /** Realpath of the main worktree. */
  repo: z.string(),
  commonDir: z.string(),
  adminDir: z.string(),
  mode: z.enum(["window", "session"]),
  sandbox: z.boolean(),
  /** Agent chosen with `wm add --agent`, instead of the configured one. */
  agent: z.string().optional(),
  /** The `layouts:` entry chosen with `wm add --layout`, used whenever its window opens. */
  layout: z.string().optional(),
  /**
   * The directory of the nested project file `wm add` used (`pkg/api` for
   * `pkg/api/.workmux.yaml`), relative to the worktree: the window opens there, and that file
   * configures it.
   */
  subdir: z.string().optional(),
  tmux: z
    .object({ socketPath: z.string(), session: z.string(), window: z.string(), title: z.string() })
    .nullable(),
  status: agentStatus.nullable(),
  statusAt: z.string().nullable(),
  lastActivity: z.string(),
  createdAt: z.string(),
});
export type WorktreeEntry = z.infer<typeof entrySchema>;

const bodySchema = z.object({ worktrees: z.array(entrySchema) });
type Body = z.infer<typeof bodySchema>;

export const STATE_FILE = "tracked-worktrees.json";

/** Entries for worktrees that still exist, when the state file was lost (rebuild.ts). */
export type RebuildEntries = (loss: DocumentLoss) => Promise<WorktreeEntry[]>;

/**
 * The worktrees wm created or opened (a linked worktree made otherwise is stored the first time
 * wm opens its window; until then it is listed from git alone), with their window and agent status: `tracked-worktrees.json`
 * (`{version: 1, worktrees: [...]}`) in the state directory, rewritten atomically after every
 * change, one change at a time. When the file is missing or unreadable (moved aside), the
 * entries are rebuilt by `rebuild` and written at once.
 */
export class WorktreeState {
  readonly #doc: JsonDocument<Body>;

  constructor(stateDir: string, log: Logger, rebuild?: RebuildEntries) {
    this.#doc = new JsonDocument(
      path.join(stateDir, STATE_FILE),
      {
        what: "worktree state file",
        version: 1,
        schema: bodySchema,
        empty: () => ({ worktrees: [] }),
      },
      log,
      rebuild &&
        (async (loss) => {
          // A rebuild that fails costs the rebuilt entries, never the store: it starts empty.
          const worktrees = await rebuild(loss).catch((err) => {
            log.error({ err }, "could not rebuild the tracked worktrees from git");
            return [];
          });
          return worktrees.length > 0 ? { worktrees } : undefined;
        }),
    );
  }

  async all(): Promise<WorktreeEntry[]> {
    return (await this.#doc.read()).worktrees;
  }

  async get(worktreePath: string): Promise<WorktreeEntry | undefined> {
    return (await this.all()).find((e) => e.path === worktreePath);
  }

  /** Applies `change` to the entries (by path) and writes them; changes run one after another. */
  async #mutate<T>(change: (entries: Map<string, WorktreeEntry>) => T): Promise<T> {
    let result: T | undefined;
    await this.#doc.update((doc) => {
      const entries = new Map(doc.worktrees.map((e) => [e.path, e]));
      result = change(entries);
      return { worktrees: [...entries.values()] };
    });
    return result as T;
  }

  put(entry: WorktreeEntry): Promise<WorktreeEntry> {
    return this.#mutate((entries) => {
      entries.set(entry.path, entry);
      return entry;
    });
  }

  /** Updates an entry; `patch` sees the current entry, so read-modify-write is one step. */
  update(
    worktreePath: string,
    patch: (current: WorktreeEntry) => Partial<WorktreeEntry> | undefined,
  ): Promise<WorktreeEntry | undefined> {
    return this.#mutate((entries) => {
      const current = entries.get(worktreePath);
      if (!current) return undefined;
      const changes = patch(current);
      if (!changes) return current;
      const updated = { ...current, ...changes };
      entries.set(worktreePath, updated);
      return updated;
    });
  }

  /** Stores `entry` unless there is one for its path already; returns the stored one. */
  adopt(entry: WorktreeEntry): Promise<WorktreeEntry> {
    return this.#mutate((entries) => {
      const current = entries.get(entry.path);
      if (current) return current;
      entries.set(entry.path, entry);
      return entry;
    });
  }

  delete(worktreePath: string): Promise<boolean> {
    return this.#mutate((entries) => entries.delete(worktreePath));
  }
}
