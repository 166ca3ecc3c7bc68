import type { z } from "zod";
import { atomicWrite } from "../fs/atomic-write.ts";
import type { Logger } from "../log.ts";
import { moveAside } from "./move-aside.ts";
import { type Parsed, parseJson, parseWith } from "./parse.ts";
import { readStateFile } from "./read-state-file.ts";
import { SerialQueue } from "./serial-queue.ts";

export const DOCUMENT_MAX_BYTES = 8 * 1024 * 1024;

/** How one state document is stored: `{"version": N, ...body}`. */
export interface DocumentFormat<T extends object> {
  /** What the file holds, for the log ("worktree state file"). */
  what: string;
  version: number;
  /** The body: the document without its `version`. */
  schema: z.ZodType<T>;
  /** An older form without `version`, read as the body and written back as `version`. */
  legacy?: z.ZodType<T>;
  /** The body of a document that has no file yet. */
  empty(): T;
  maxBytes?: number;
}

/** A document's body; `legacy` when it was read from the unversioned form. */
type ParsedDocument<T> = Parsed<T> & { legacy?: boolean };

/** Why a document did not come from its file. */
export type DocumentLoss =
  | { kind: "missing" }
  | {
      kind: "moved-aside";
      aside: string;
      reason: string;
      /** The text that failed, when it could be read (not for links, FIFOs or oversize files). */
      text: string | undefined;
    };

/**
 * Something else to start from when the file is missing or was moved aside; undefined
 * starts from the empty body (and writes nothing).
 */
export type Recover<T> = (loss: DocumentLoss) => Promise<T | undefined>;

/**
 * One versioned JSON document in the state directory, read once and kept in memory. Read
 * no-follow and bounded; a file that is not a regular file, not JSON, of another version or
 * not matching the schema is moved aside and the store goes on. Changes are written
 * atomically, one after another, each on top of every earlier one.
 */
export class JsonDocument<T extends object> {
  #value: Promise<T> | undefined;
  readonly #writes = new SerialQueue();

  constructor(
    readonly file: string,
    private readonly format: DocumentFormat<T>,
    private readonly log: Logger,
    private readonly recover?: Recover<T>,
  ) {}

  /** The current body. The first call reads the file; a failed read is tried again next call. */
  read(): Promise<T> {
    this.#value ??= this.#load().catch((err) => {
      this.#value = undefined;
      throw err;
    });
    return this.#value;
  }

  /**
   * Writes `change(current)` as the new body; changes run one at a time in call order. When
   * `change` returns `current` itself, nothing is written.
   */
  update(change: (current: T) => T): Promise<T> {
    return this.#writes.run(this.file, async () => {
      const current = await this.read();
      const next = change(current);
      if (next === current) return current;
      await this.#write(next);
      this.#value = Promise.resolve(next);
      return next;
    });
  }

  // Writes made while loading need no queue: every update waits for the load first.
  async #load(): Promise<T> {
    const read = await readStateFile(this.file, this.format.maxBytes ?? DOCUMENT_MAX_BYTES);
    if (read.kind === "missing") return this.#recover({ kind: "missing" });
    const text = read.kind === "text" ? read.text : undefined;
    const parsed: ParsedDocument<T> =
      read.kind === "text" ? this.#parse(read.text) : { ok: false, reason: read.reason };
    if (parsed.ok) {
      if (parsed.legacy) {
        await this.#write(parsed.value);
        this.log.info(
          { file: this.file, version: this.format.version },
          `rewrote the ${this.format.what} in the current format`,
        );
      }
      return parsed.value;
    }
    const aside = await moveAside(this.file, parsed.reason, this.format.what, this.log);
    return this.#recover({ kind: "moved-aside", aside, reason: parsed.reason, text });
  }

  async #recover(loss: DocumentLoss): Promise<T> {
    const recovered = await this.recover?.(loss);
    if (recovered === undefined) return this.format.empty();
    await this.#write(recovered);
    return recovered;
  }

  #parse(text: string): ParsedDocument<T> {
    const json = parseJson(text);
    if (!json.ok) return json;
    const doc = json.value;
    const versioned = typeof doc === "object" && doc !== null && "version" in doc;
    if (!versioned) {
      if (!this.format.legacy) return { ok: false, reason: "it has no version" };
      return { ...parseWith(this.format.legacy, doc), legacy: true };
    }
    const { version, ...body } = doc as { version: unknown };
    if (version !== this.format.version) {
      return {
        ok: false,
        reason: `it is version ${JSON.stringify(version)}, and this wm reads version ${this.format.version}`,
      };
    }
    return parseWith(this.format.schema, body);
  }

  #write(body: T): Promise<void> {
    const doc = { version: this.format.version, ...body };
    return atomicWrite(this.file, `${JSON.stringify(doc, null, 2)}\n`);
  }
}
