import { promises as fs } from "node:fs";
import path from "node:path";
import type { z } from "zod";
import { atomicWrite } from "../fs/atomic-write.ts";
import type { Logger } from "../log.ts";
import { moveAside } from "./move-aside.ts";
import { type Parsed, parseJson, parseWith } from "./parse.ts";
import { readStateFile } from "./read-state-file.ts";
import { SerialQueue } from "./serial-queue.ts";

export const RECORD_MAX_BYTES = 1024 * 1024;

/** How a directory of records is stored: one `<id>.json` per record. */
export interface RecordsFormat<T> {
  /** What one file holds, for the log ("sandbox record"). */
  what: string;
  /** Ids that may name a file; no other name in the directory is read or written. */
  idPattern: RegExp;
  schema: z.ZodType<T>;
  idOf(record: T): string;
  maxBytes?: number;
}

/**
 * A directory of JSON records, one file per id, under the same rules as a JsonDocument: read
 * no-follow and bounded, schema-checked, a bad file moved aside while the others load, each
 * file written atomically and one write at a time.
 */
export class JsonRecords<T> {
  readonly #writes = new SerialQueue();

  constructor(
    readonly dir: string,
    private readonly format: RecordsFormat<T>,
    private readonly log: Logger,
  ) {}

  /** Every record in the directory. */
  async readAll(): Promise<T[]> {
    const records: T[] = [];
    for (const name of await fs.readdir(this.dir)) {
      const id = name.endsWith(".json") ? name.slice(0, -".json".length) : "";
      if (!this.format.idPattern.test(id)) continue;
      const record = await this.#read(id);
      if (record !== undefined) records.push(record);
    }
    return records;
  }

  /**
   * Writes the record as `current()` gives it when this id's turn comes, so the file always
   * ends as the latest value; nothing when it returns undefined (removed meanwhile).
   */
  write(id: string, current: () => T | undefined): Promise<void> {
    const file = this.#file(id);
    return this.#writes.run(id, async () => {
      const record = current();
      if (record !== undefined) await atomicWrite(file, `${JSON.stringify(record, null, 2)}\n`);
    });
  }

  remove(id: string): Promise<void> {
    const file = this.#file(id);
    return this.#writes.run(id, () => fs.rm(file, { force: true }));
  }

  async #read(id: string): Promise<T | undefined> {
    const file = this.#file(id);
    const read = await readStateFile(file, this.format.maxBytes ?? RECORD_MAX_BYTES).catch(
      (err) => {
        // Says nothing about the content: left where it is, and the other records load.
        this.log.error({ err, file }, `could not read a ${this.format.what}`);
        return { kind: "missing" } as const;
      },
    );
    if (read.kind === "missing") return undefined;
    const parsed = read.kind === "text" ? this.#parse(read.text, id) : refused(read.reason);
    if (parsed.ok) return parsed.value;
    await moveAside(file, parsed.reason, this.format.what, this.log).catch((err) =>
      this.log.error({ err, file }, `could not move an unreadable ${this.format.what} aside`),
    );
    return undefined;
  }

  #parse(text: string, id: string): Parsed<T> {
    const json = parseJson(text);
    if (!json.ok) return json;
    const parsed = parseWith(this.format.schema, json.value);
    if (parsed.ok && this.format.idOf(parsed.value) !== id)
      return refused(`it holds the record of another id, not ${id}`);
    return parsed;
  }

  #file(id: string): string {
    if (!this.format.idPattern.test(id)) throw new Error(`invalid ${this.format.what} id ${id}`);
    return path.join(this.dir, `${id}.json`);
  }
}

function refused(reason: string): Parsed<never> {
  return { ok: false, reason };
}
