/**
 * The next sandbox of a worktree, made while nobody waits for it: when a sandbox's command ends,
 * the same run is prepared again (record, guest endpoint, mounts, container created and joined to
 * its network holder, not started), so the next `wm sandbox run` asking exactly the same only
 * starts and attaches it. See docs/decisions/0025.
 */

/** What a run asked for; a prepared sandbox serves only a request equal to the one it was made for. */
export interface PreparedRequest {
  worktree: string;
  agent?: string | undefined;
  command: readonly string[];
  tty: boolean;
  interactive: boolean;
  size?: { rows: number; cols: number } | undefined;
  env: Readonly<Record<string, string>>;
}

/** Worktrees with a prepared sandbox at once; the oldest beyond this is removed. */
export const MAX_PREPARED = 8;

/** The parts of a request that decide what is created, in a fixed order. */
export function requestKey(req: PreparedRequest): string {
  const env = Object.entries(req.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    req.agent ?? null,
    req.command,
    req.tty,
    req.interactive,
    // The terminal's size is part of a TTY sandbox's command (withTerminalSize).
    req.tty ? (req.size ?? null) : null,
    env,
  ]);
}

interface Entry<T> {
  key: string;
  made: Promise<T | undefined>;
}

/**
 * At most one prepared sandbox per worktree (by its real path), in the order they were made.
 * `drop` removes what a prepared sandbox holds; it is called for every one not claimed.
 */
export class PreparedSandboxes<T> {
  readonly #entries = new Map<string, Entry<T>>();

  constructor(private readonly drop: (made: T) => Promise<void>) {}

  has(worktree: string): boolean {
    return this.#entries.has(worktree);
  }

  /** Starts preparing for `worktree`; the oldest entries beyond {@link MAX_PREPARED} are dropped. */
  add(worktree: string, key: string, make: () => Promise<T | undefined>): void {
    this.discard(worktree);
    const made = make().catch(() => undefined);
    this.#entries.set(worktree, { key, made });
    for (const old of this.#entries.keys()) {
      if (this.#entries.size <= MAX_PREPARED) break;
      this.discard(old);
    }
  }

  /**
   * The sandbox prepared for `worktree` when it was made for `key`, now the caller's. One made
   * for another request is dropped without waiting for it.
   */
  async take(worktree: string, key: string): Promise<T | undefined> {
    const entry = this.#entries.get(worktree);
    if (!entry) return undefined;
    this.#entries.delete(worktree);
    if (entry.key !== key) {
      void this.#dropWhenMade(entry);
      return undefined;
    }
    return entry.made;
  }

  /** Drops what was prepared for `worktree`, in the background. */
  discard(worktree: string): void {
    const entry = this.#entries.get(worktree);
    if (!entry) return;
    this.#entries.delete(worktree);
    void this.#dropWhenMade(entry);
  }

  /** The prepared sandboxes made so far (e.g. to tell them from orphans). */
  async settled(): Promise<T[]> {
    const out: T[] = [];
    for (const e of [...this.#entries.values()]) {
      const made = await e.made;
      if (made !== undefined) out.push(made);
    }
    return out;
  }

  /** Drops every one and waits until they are gone. */
  async clear(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((e) => this.#dropWhenMade(e)));
  }

  async #dropWhenMade(entry: Entry<T>): Promise<void> {
    const made = await entry.made;
    if (made !== undefined) await this.drop(made).catch(() => undefined);
  }
}
