import { realpath } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { Logger } from "../log.ts";
import { JsonDocument } from "../state/json-document.ts";
import { recordWorktree, type WorktreeRecord } from "./git-layout.ts";

const recordSchema = z.object({
  worktreePath: z.string(),
  commonDir: z.string(),
  adminDir: z.string(),
  branch: z.string().nullable().optional(),
}) satisfies z.ZodType<WorktreeRecord>;

const bodySchema = z.object({ worktrees: z.record(z.string(), recordSchema) });
type Body = z.infer<typeof bodySchema>;

/**
 * The git facts of each worktree, read once — when the daemon first meets the worktree
 * (`wm add`, or the first sandbox in a worktree made otherwise), before any sandbox has run in
 * it — and reused for every later sandbox, so an agent's later edits to its worktree can never
 * steer which git directories get mounted. They also name the repositories wm knows, from
 * which tracked worktrees are rebuilt (worktrees/rebuild.ts).
 *
 * `worktrees.json`: `{version: 1, worktrees: {<realpath>: record}}`; the unversioned map of
 * earlier versions is read and rewritten in this form.
 */
export class WorktreeStore {
  readonly #doc: JsonDocument<Body>;

  constructor(stateDir: string, log: Logger) {
    this.#doc = new JsonDocument(
      path.join(stateDir, "worktrees.json"),
      {
        what: "worktree records file",
        version: 1,
        schema: bodySchema,
        legacy: z.record(z.string(), recordSchema).transform((worktrees) => ({ worktrees })),
        empty: () => ({ worktrees: {} }),
      },
      log,
    );
  }

  /** Records what `wm add` read right after creating the worktree (replacing an older record). */
  async remember(record: WorktreeRecord): Promise<void> {
    await this.#doc.update((doc) => ({
      worktrees: { ...doc.worktrees, [record.worktreePath]: record },
    }));
  }

  /** Drops the record of a worktree wm removed. */
  async forget(worktreePath: string): Promise<void> {
    await this.#doc.update((doc) => {
      if (!(worktreePath in doc.worktrees)) return doc;
      const rest = Object.entries(doc.worktrees).filter(([p]) => p !== worktreePath);
      return { worktrees: Object.fromEntries(rest) };
    });
  }

  async all(): Promise<WorktreeRecord[]> {
    return Object.values((await this.#doc.read()).worktrees);
  }

  /**
   * @param recordedAtCreation what `wm add` recorded when it made the worktree, if it did;
   * preferred over anything read now.
   */
  async get(
    worktreePath: string,
    recordedAtCreation?: (real: string) => Promise<WorktreeRecord | undefined>,
  ): Promise<WorktreeRecord> {
    const real = await realpath(worktreePath);
    const fromAdd = await recordedAtCreation?.(real);
    if (fromAdd) return fromAdd;
    const known = (await this.#doc.read()).worktrees[real];
    if (known) return known;
    const record = await recordWorktree(real);
    const stored = await this.#doc.update((doc) =>
      doc.worktrees[real] ? doc : { worktrees: { ...doc.worktrees, [real]: record } },
    );
    return stored.worktrees[real] ?? record;
  }
}
