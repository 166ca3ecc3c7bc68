import path from "node:path";
import { ensureOwnerOnlyDir } from "../fs/secure-dir.ts";
import type { Logger } from "../log.ts";
import { JsonRecords } from "../state/json-records.ts";
import { type SandboxRecord, sandboxRecordSchema } from "./record.ts";
import { SANDBOX_ID } from "./record-labels.ts";

/**
 * Durable sandbox records: one JSON file per sandbox under `$XDG_STATE_HOME/wm/sandboxes/`
 * (state/json-records.ts: no-follow, bounded, schema-checked, written atomically), so `kill -9`
 * at any instant leaves the old or the new record. A record that cannot be read is moved
 * aside; the sandbox is rebuilt from its container's labels (record-labels.ts).
 */
export class SandboxRegistry {
  readonly #records = new Map<string, SandboxRecord>();
  readonly #files: JsonRecords<SandboxRecord>;
  #markLoaded: () => void = () => undefined;
  readonly #loaded = new Promise<void>((resolve) => {
    this.#markLoaded = resolve;
  });

  constructor(stateDir: string, log: Logger) {
    this.#files = new JsonRecords(
      path.join(stateDir, "sandboxes"),
      {
        what: "sandbox record",
        idPattern: SANDBOX_ID,
        schema: sandboxRecordSchema,
        idOf: (r) => r.id,
      },
      log,
    );
  }

  async load(uid: number): Promise<SandboxRecord[]> {
    try {
      await ensureOwnerOnlyDir(this.#files.dir, { uid, tightenMode: true });
      for (const record of await this.#files.readAll()) this.#records.set(record.id, record);
      return this.all();
    } finally {
      this.#markLoaded();
    }
  }

  /** Settles once the first {@link load} has (the records of a previous daemon are in). */
  whenLoaded(): Promise<void> {
    return this.#loaded;
  }

  all(): SandboxRecord[] {
    return [...this.#records.values()];
  }

  get(id: string): SandboxRecord | undefined {
    return this.#records.get(id);
  }

  /** By id, or by name when it is unique. */
  find(nameOrId: string): SandboxRecord | undefined {
    return this.#records.get(nameOrId) ?? this.all().find((r) => r.name === nameOrId);
  }

  async put(record: SandboxRecord): Promise<void> {
    if (!SANDBOX_ID.test(record.id)) throw new Error(`invalid sandbox id ${record.id}`);
    this.#records.set(record.id, record);
    await this.#persist(record.id);
  }

  async update(id: string, change: Partial<SandboxRecord>): Promise<SandboxRecord | undefined> {
    const current = this.#records.get(id);
    if (!current) return undefined;
    const next = { ...current, ...change };
    await this.put(next);
    return next;
  }

  /**
   * Counts one `agent.spawn` of sandbox `id` against `limit`. The check and the count happen
   * before anything is awaited, so concurrent requests cannot both take the last one; the
   * count is on disk before this resolves, so a restarted daemon keeps it.
   */
  async countSpawn(
    id: string,
    limit: number,
  ): Promise<{ counted: boolean; used: number } | undefined> {
    const current = this.#records.get(id);
    if (!current) return undefined;
    const used = current.spawns ?? 0;
    if (used >= limit) return { counted: false, used };
    await this.put({ ...current, spawns: used + 1 });
    return { counted: true, used: used + 1 };
  }

  async delete(id: string): Promise<void> {
    this.#records.delete(id);
    await this.#files.remove(id);
  }

  /** Writes the record as it is when its turn comes (none when it was deleted meanwhile). */
  #persist(id: string): Promise<void> {
    return this.#files.write(id, () => this.#records.get(id));
  }
}
