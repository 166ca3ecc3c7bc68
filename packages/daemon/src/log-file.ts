import { once } from "node:events";
import { constants, fstatSync, mkdirSync, openSync, renameSync } from "node:fs";
import path from "node:path";
import { pino } from "pino";

/** How big the log may grow: `maxBytes` per file, `keep` previous files (`daemon.log.1` …). */
export interface Rotation {
  maxBytes: number;
  /** At least 1. */
  keep: number;
}

export const DEFAULT_ROTATION: Rotation = { maxBytes: 10 * 1024 * 1024, keep: 3 };

const OPEN_FLAGS =
  constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

type Stream = ReturnType<typeof pino.destination>;

function moveIfPresent(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/**
 * pino's own destination (sonic-boom, no worker thread) on a file that is owner-only, opened
 * without following a symlink, and rotated by size: past `maxBytes` each `file.N` becomes
 * `file.N+1` (the oldest is replaced), `file` becomes `file.1` and a new `file` is opened.
 * rename(2) moves a symlink found at any of those names; it never writes through one.
 */
export class RotatingLogFile {
  #stream: Stream;
  #size: number;
  /** Bytes handed to the current stream and not yet written. */
  #unwritten = 0;
  /** Streams of rotated files, still writing what they held. */
  readonly #retiring = new Set<Promise<void>>();

  constructor(
    readonly file: string,
    private readonly rotation: Rotation = DEFAULT_ROTATION,
  ) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    [this.#stream, this.#size] = this.#open();
  }

  write(line: string): boolean {
    const bytes = Buffer.byteLength(line);
    if (this.#size > 0 && this.#size + bytes > this.rotation.maxBytes) this.#rotate();
    this.#size += bytes;
    this.#unwritten += bytes;
    return this.#stream.write(line);
  }

  /** Calls back once every line written so far is in a file. */
  flush(cb: (err?: Error) => void = () => {}): void {
    const drained =
      this.#unwritten === 0 ? Promise.resolve() : once(this.#stream, "drain").then(() => {});
    Promise.all([drained, ...this.#retiring]).then(() => cb(), cb);
  }

  flushSync(): void {
    this.#stream.flushSync();
    this.#unwritten = 0;
  }

  #open(): [Stream, number] {
    const fd = openSync(this.file, OPEN_FLAGS, 0o600);
    const stream = pino.destination({ dest: fd, sync: false });
    stream.on("write", (n: number) => {
      if (stream === this.#stream) this.#unwritten = Math.max(0, this.#unwritten - n);
    });
    return [stream, fstatSync(fd).size];
  }

  #rotate(): void {
    const { file } = this;
    try {
      for (let i = this.rotation.keep - 1; i >= 1; i--)
        moveIfPresent(`${file}.${i}`, `${file}.${i + 1}`);
      renameSync(file, `${file}.1`);
      const [next, size] = this.#open();
      this.#retire(this.#stream);
      this.#stream = next;
      this.#unwritten = 0;
      this.#size = size;
    } catch {
      // Keep writing where we are (the file may now be `file.1`); try again after another bound.
      this.#size = 0;
    }
  }

  #retire(stream: Stream): void {
    const closed = once(stream, "close").then(
      () => {},
      () => {},
    );
    this.#retiring.add(closed);
    void closed.then(() => this.#retiring.delete(closed));
    stream.end();
  }
}
