import { execFile } from "node:child_process";
import { constants, promises as fs } from "node:fs";
import path from "node:path";

/**
 * The next sandbox of a worktree, made while nobody waits for it: when a sandbox's command ends,
 * the same run is prepared again (record, guest endpoint, mounts, container created, joined to its
 * network holder and started, waiting at a gate), so the next `wm sandbox run` asking exactly the
 * same only attaches and opens the gate. See docs/decisions/0025.
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
  /** Set once made. */
  value?: T | undefined;
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
    const entry: Entry<T> = { key, made: make().catch(() => undefined) };
    void entry.made.then((value) => {
      entry.value = value;
    });
    this.#entries.set(worktree, entry);
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

  /**
   * The prepared sandboxes made so far, not those still being made (e.g. to tell them from
   * orphans; waiting here could wait on a sweep that waits on this).
   */
  made(): T[] {
    return [...this.#entries.values()].flatMap((e) => (e.value === undefined ? [] : [e.value]));
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

/** On a prepared sandbox's container: it was made ahead and waits at its gate until claimed. */
export const PREPARED_LABEL = "wm.prepared";

/** The gate's FIFO, in the sandbox's endpoint directory (mounted at /run/wm). */
export const GATE_FIFO = "go";

/**
 * A prepared sandbox's command: its container is started ahead and waits, as the sandbox's own
 * user with nothing else running, until the daemon writes a line to the gate's FIFO; then the
 * command runs in its place with the same process, environment and terminal.
 */
export function gatedCommand(guestMount: string, command: readonly string[]): string[] {
  return [
    "/bin/sh",
    "-c",
    `read -r _ < ${guestMount}/${GATE_FIFO} && exec "$@"`,
    "wm-gate",
    ...command,
  ];
}

/** Makes the gate's FIFO, readable and writable by the sandbox's user only (mkfifo(1)). */
export async function makeGate(dir: string, owner: { uid: number; gid: number }): Promise<void> {
  const fifo = path.join(dir, GATE_FIFO);
  await fs.rm(fifo, { force: true });
  await new Promise<void>((resolve, reject) =>
    execFile("mkfifo", ["-m", "600", fifo], (err) => (err ? reject(err) : resolve())),
  );
  await fs.chown(fifo, owner.uid, owner.gid);
}

/**
 * Opens the gate for writing; undefined when nothing waits at it (the container stopped, or
 * its gate already opened). Writing a line to it lets the command run.
 */
export async function openGate(dir: string): Promise<fs.FileHandle | undefined> {
  return fs
    .open(
      path.join(dir, GATE_FIFO),
      constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW,
    )
    .catch(() => undefined);
}

/** Lets the command run, and removes the FIFO (a claimed sandbox has none). */
export async function releaseGate(dir: string, gate: fs.FileHandle): Promise<void> {
  try {
    await gate.write("go\n");
  } finally {
    await gate.close();
  }
  await fs.rm(path.join(dir, GATE_FIFO), { force: true });
}

/** Whether the sandbox with endpoint directory `dir` still waits at its gate (never claimed). */
export async function waitsAtGate(dir: string): Promise<boolean> {
  const st = await fs.lstat(path.join(dir, GATE_FIFO)).catch(() => undefined);
  return st?.isFIFO() ?? false;
}
