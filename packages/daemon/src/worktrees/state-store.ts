import { promises as fs } from "node:fs";
import path from "node:path";
import { agentStatus } from "@wm/protocol";
import { z } from "zod";
import { atomicWrite, readNoFollow } from "../fs/atomic-write.ts";
import type { Logger } from "../log.ts";

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
  tmux: z
    .object({ socketPath: z.string(), session: z.string(), window: z.string(), title: z.string() })
    .nullable(),
  status: agentStatus.nullable(),
  statusAt: z.string().nullable(),
  lastActivity: z.string(),
  createdAt: z.string(),
});
export type WorktreeEntry = z.infer<typeof entrySchema>;

const fileSchema = z.object({ version: z.literal(1), worktrees: z.array(entrySchema) });

export const STATE_FILE = "tracked-worktrees.json";

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The worktrees wm created, with their window and agent status: one owner-only JSON file in
 * the state directory, rewritten atomically after every change, one write at a time.
 */
export class WorktreeState {
  readonly file: string;
  #entries: Map<string, WorktreeEntry> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    stateDir: string,
    private readonly log: Logger,
  ) {
    this.file = path.join(stateDir, STATE_FILE);
  }

  async #load(): Promise<Map<string, WorktreeEntry>> {
    if (this.#entries) return this.#entries;
    let text: string | undefined;
    try {
      text = await readNoFollow(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const entries = new Map<string, WorktreeEntry>();
    if (text !== undefined) {
      const parsed = fileSchema.safeParse(parseJson(text));
      if (parsed.success) {
        for (const e of parsed.data.worktrees) entries.set(e.path, e);
      } else {
        const aside = `${this.file}.unreadable-${Date.now()}`;
        await fs.rename(this.file, aside);
        this.log.error(
          { file: this.file, aside },
          "worktree state file is unreadable; moved aside, starting empty",
        );
      }
    }
    this.#entries ??= entries;
    return this.#entries;
  }

  async all(): Promise<WorktreeEntry[]> {
    return [...(await this.#load()).values()];
  }

  async get(worktreePath: string): Promise<WorktreeEntry | undefined> {
    return (await this.#load()).get(worktreePath);
  }

  /** Applies `change` to the entries and writes the file; changes run one after another. */
  #mutate<T>(change: (entries: Map<string, WorktreeEntry>) => T): Promise<T> {
    const next = this.#queue.then(async () => {
      const entries = await this.#load();
      const result = change(entries);
      const doc = { version: 1, worktrees: [...entries.values()] };
      await atomicWrite(this.file, `${JSON.stringify(doc, null, 2)}\n`);
      return result;
    });
    this.#queue = next.catch(() => undefined);
    return next;
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

  delete(worktreePath: string): Promise<boolean> {
    return this.#mutate((entries) => entries.delete(worktreePath));
  }
}
