import { promises as fs } from "node:fs";
import path from "node:path";
import { atomicWrite, readNoFollow } from "../fs/atomic-write.ts";
import { ensureOwnerOnlyDir } from "../fs/secure-dir.ts";
import type { Logger } from "../log.ts";
import type { SandboxRecord } from "./record.ts";

const ID_PATTERN = /^sb-[0-9a-f]{12}$/;

/**
 * Durable sandbox records: one JSON file per sandbox under `$XDG_STATE_HOME/wm/sandboxes/`,
 * each written atomically, so `kill -9` at any instant leaves the old or the new record.
 */
export class SandboxRegistry {
  readonly #dir: string;
  readonly #records = new Map<string, SandboxRecord>();
  /** The last write of each record's file; the next one waits for it, so files never go back. */
  readonly #writes = new Map<string, Promise<void>>();
  readonly #log: Logger;

  constructor(stateDir: string, log: Logger) {
    this.#dir = path.join(stateDir, "sandboxes");
    this.#log = log;
  }

  async load(uid: number): Promise<SandboxRecord[]> {
    await ensureOwnerOnlyDir(this.#dir, { uid, tightenMode: true });
    for (const name of await fs.readdir(this.#dir)) {
      if (!name.endsWith(".json") || !ID_PATTERN.test(name.slice(0, -5))) continue;
      const file = path.join(this.#dir, name);
      const id = name.slice(0, -5);
      try {
        const record: unknown = JSON.parse(await readNoFollow(file));
        if (!isRecord(record, id)) throw new Error("not a sandbox record of this id");
        this.#records.set(record.id, record);
      } catch (err) {
        // Moved aside, never followed or deleted; the sandbox is rebuilt from its container.
        const aside = `${file}.unreadable-${Date.now()}`;
        await fs.rename(file, aside).catch(() => undefined);
        this.#log.warn(
          { err, file: name, movedTo: aside },
          "moved an unreadable sandbox record aside",
        );
      }
    }
    return [...this.#records.values()];
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
    if (!ID_PATTERN.test(record.id)) throw new Error(`invalid sandbox id ${record.id}`);
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
    await this.#chain(id, () => fs.rm(this.#file(id), { force: true }));
  }

  /** Writes the record as it is when its turn comes (none when it was deleted meanwhile). */
  #persist(id: string): Promise<void> {
    return this.#chain(id, async () => {
      const record = this.#records.get(id);
      if (record) await atomicWrite(this.#file(id), `${JSON.stringify(record, null, 2)}\n`);
    });
  }

  #chain(id: string, step: () => Promise<void>): Promise<void> {
    const next = (this.#writes.get(id) ?? Promise.resolve()).catch(() => undefined).then(step);
    this.#writes.set(id, next);
    const forget = () => {
      if (this.#writes.get(id) === next) this.#writes.delete(id);
    };
    next.then(forget, forget);
    return next;
  }

  #file(id: string): string {
    return path.join(this.#dir, `${id}.json`);
  }
}

const STRING_FIELDS = [
  "id",
  "name",
  "worktree",
  "runtime",
  "image",
  "containerName",
  "state",
  "user",
];

/** The fields every later step relies on, checked before a record read back from disk is used. */
function isRecord(value: unknown, id: string): value is SandboxRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  const git = r.git as Record<string, unknown> | undefined;
  return (
    r.id === id &&
    STRING_FIELDS.every((k) => typeof r[k] === "string") &&
    (r.runtime === "docker" || r.runtime === "podman") &&
    (r.transport === "socket" || r.transport === "tcp") &&
    typeof git?.commonDir === "string" &&
    typeof git?.adminDir === "string" &&
    (r.containerId === null || typeof r.containerId === "string") &&
    typeof r.tty === "boolean" &&
    Array.isArray(r.command)
  );
}
