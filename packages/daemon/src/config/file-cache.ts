import { type CheckedFile, checkConfigText, type FileRole } from "./check-text.ts";
import { ConfigCheckWorker } from "./off-thread.ts";
import { type FileIdentity, openConfigFile, sameIdentity } from "./open-file.ts";
import { deepFreeze } from "./tree.ts";

/**
 * A file changed this recently may change again without its timestamps moving (they are as
 * coarse as the kernel's clock tick, or whole seconds on some file systems), so it is not kept.
 */
const RECENT_NS = 2_000_000_000n;

export interface ConfigFilesOptions {
  /** Files up to this many bytes are checked on the calling thread, larger ones on the worker. */
  inThreadBytes?: number;
  /** How many files' results are kept; the least recently used goes first. */
  maxEntries?: number;
  /** Checks a file off the calling thread; started only when a file needs it. */
  worker?: Pick<ConfigCheckWorker, "check">;
  /** Checks a small file on the calling thread. */
  checkInThread?: typeof checkConfigText;
  /** Wall-clock time in nanoseconds, the clock file timestamps come from. */
  now?: () => bigint;
}

interface Entry {
  identity: FileIdentity;
  checked: Promise<CheckedFile>;
}

const unreadable = (file: string, err: unknown): CheckedFile => {
  const reason = err instanceof Error ? err.message : String(err);
  return { errors: [{ file, key: "", message: `cannot read the file: ${reason}` }], warnings: [] };
};

/**
 * Config files read and checked, each kept (deep-frozen) until it changes: a file whose
 * device, inode, size, mtime and ctime are those of a kept result is not read or parsed again.
 */
export class ConfigFiles {
  private readonly inThreadBytes: number;
  private readonly maxEntries: number;
  private worker: Pick<ConfigCheckWorker, "check"> | undefined;
  private readonly checkInThread: typeof checkConfigText;
  private readonly now: () => bigint;
  private readonly entries = new Map<string, Entry>();

  constructor(opts: ConfigFilesOptions = {}) {
    this.inThreadBytes = opts.inThreadBytes ?? 4 * 1024;
    this.maxEntries = opts.maxEntries ?? 256;
    this.worker = opts.worker;
    this.checkInThread = opts.checkInThread ?? checkConfigText;
    this.now = opts.now ?? (() => BigInt(Date.now()) * 1_000_000n);
  }

  /** How many files' results are kept. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The file's problems and, when it has no errors, its checked value. A file that cannot be
   * read (missing, not a regular file, too large) is an error; a worker that fails rejects.
   */
  async load(file: string, role: FileRole): Promise<CheckedFile> {
    const key = [role.kind, role.kind === "project" ? role.globalFile : "", file].join("\0");
    let identity: FileIdentity;
    let text: string;
    try {
      const opened = await openConfigFile(file);
      try {
        identity = opened.identity;
        const kept = this.lookup(key, identity);
        if (kept) return kept;
        text = await opened.readText();
      } finally {
        await opened.close();
      }
    } catch (err) {
      return unreadable(file, err);
    }
    const checked = this.check(file, text, role).then(deepFreeze);
    if (!this.recent(identity)) this.keep(key, { identity, checked });
    return checked;
  }

  private check(file: string, text: string, role: FileRole): Promise<CheckedFile> {
    if (Buffer.byteLength(text) <= this.inThreadBytes) {
      return Promise.resolve(this.checkInThread(file, text, role));
    }
    this.worker ??= new ConfigCheckWorker();
    return this.worker.check(file, text, role);
  }

  private lookup(key: string, identity: FileIdentity): Promise<CheckedFile> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (!sameIdentity(entry.identity, identity)) return undefined;
    this.entries.set(key, entry);
    return entry.checked;
  }

  private keep(key: string, entry: Entry): void {
    this.entries.set(key, entry);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
    // A worker failure says nothing about the file: try again next time.
    entry.checked.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
  }

  private recent(identity: FileIdentity): boolean {
    const since = this.now() - RECENT_NS;
    return identity.mtimeNs >= since || identity.ctimeNs >= since;
  }
}

let shared: ConfigFiles | undefined;

/** The process's config files: every load that is not handed its own shares these. */
export function sharedConfigFiles(): ConfigFiles {
  shared ??= new ConfigFiles();
  return shared;
}
