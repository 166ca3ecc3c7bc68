import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { TerminalSize } from "@wm/protocol";

/** How the host child ended, as a shell reports it: a signal death is 128 + its number. */
export interface ChildEnd {
  code: number;
  signal: string | null;
}

/**
 * One host process and its streams, whether on pipes or on a PTY. Output is delivered as
 * bytes; `pause`/`resume` stop reading it (back-pressure reaches the child through the full
 * pipe or terminal); `write` returns false when the child's input is full, then `onDrain`.
 */
export interface HostChild {
  readonly pid: number;
  onOutput(fn: (channel: 1 | 2, chunk: Buffer) => void): void;
  onDrain(fn: () => void): void;
  write(chunk: Buffer): boolean;
  endInput(): void;
  pause(): void;
  resume(): void;
  resize(size: TerminalSize): void;
  /** To the child's whole process group. */
  signal(sig: NodeJS.Signals): void;
  /** Resolves once the child has exited and its output has been read to the end. */
  readonly ended: Promise<ChildEnd>;
}

export interface ChildSpec {
  file: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** Run as this user instead of the daemon's (only a root daemon can). */
  runAs?: { uid: number; gid: number } | undefined;
}

function endOf(code: number | null, signal: string | null): ChildEnd {
  if (signal) {
    const n = constants.signals[signal as NodeJS.Signals] ?? 0;
    return { code: 128 + n, signal };
  }
  return { code: code ?? 1, signal: null };
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * On pipes: its own session and process group (so it has no controlling terminal to inject
 * into, and a signal reaches everything it started), stdout and stderr apart.
 */
export function spawnPiped(spec: ChildSpec): HostChild {
  const child = spawn(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    ...(spec.runAs ?? {}),
  });
  const stdin = child.stdin;
  const stdout = child.stdout;
  const stderr = child.stderr;
  // An input pipe the child closed early is its business, not the daemon's.
  stdin.on("error", () => undefined);
  const ended = new Promise<ChildEnd>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve(endOf(code, signal)));
  });
  return {
    get pid() {
      return child.pid ?? -1;
    },
    onOutput(fn) {
      stdout.on("data", (c: Buffer) => fn(1, c));
      stderr.on("data", (c: Buffer) => fn(2, c));
    },
    onDrain(fn) {
      stdin.on("drain", fn);
    },
    write: (chunk) => (stdin.writable ? stdin.write(chunk) : true),
    endInput: () => stdin.end(),
    pause() {
      stdout.pause();
      stderr.pause();
    },
    resume() {
      stdout.resume();
      stderr.resume();
    },
    resize: () => undefined,
    signal: (sig) => {
      if (child.pid !== undefined) killGroup(child.pid, sig);
    },
    ended,
  };
}

type PtyModule = typeof import("@lydell/node-pty");
let ptyModule: Promise<PtyModule> | undefined;

/** The PTY library is a native addon: loaded the first time a caller has a terminal. */
function loadPty(): Promise<PtyModule> {
  ptyModule ??= import("@lydell/node-pty");
  return ptyModule;
}

/**
 * On a PTY of the caller's size: the child is a session leader with the terminal as its
 * controlling one, so Ctrl-C typed by the caller reaches its foreground group as SIGINT.
 * Output is one stream (a terminal has one), handed over as bytes.
 */
export async function spawnPty(spec: ChildSpec, size: TerminalSize): Promise<HostChild> {
  const { spawn: ptySpawn } = await loadPty();
  // node-pty sets uid and gid but keeps the daemon's supplementary groups: setpriv drops them.
  const [file, args] = spec.runAs
    ? [
        "setpriv",
        [
          `--reuid=${spec.runAs.uid}`,
          `--regid=${spec.runAs.gid}`,
          "--clear-groups",
          "--",
          spec.file,
          ...spec.args,
        ],
      ]
    : [spec.file, [...spec.args]];
  const term = ptySpawn(file, args, {
    name: spec.env.TERM ?? "xterm-256color",
    cols: size.cols,
    rows: size.rows,
    cwd: spec.cwd,
    env: spec.env,
    encoding: null,
  });
  const drains: Array<() => void> = [];
  const ended = new Promise<ChildEnd>((resolve) => {
    term.onExit(({ exitCode, signal }) => {
      const name = signal
        ? (Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] ?? null)
        : null;
      resolve(endOf(exitCode, name));
    });
  });
  return {
    pid: term.pid,
    onOutput(fn) {
      term.onData((data) => fn(1, typeof data === "string" ? Buffer.from(data) : data));
    },
    onDrain(fn) {
      drains.push(fn);
    },
    write(chunk) {
      // Typed for strings, but with `encoding: null` the addon writes bytes as they are.
      term.write(chunk as unknown as string);
      return true;
    },
    // A terminal has no end of input; Ctrl-D is what a program at a terminal reads as one.
    endInput: () => term.write("\x04"),
    pause: () => term.pause(),
    resume: () => term.resume(),
    resize: (s) => term.resize(s.cols, s.rows),
    signal: (sig) => killGroup(term.pid, sig),
    ended,
  };
}
