import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { AgentStreamId, TtySize } from "@wm/protocol/guest-agent";
import type { PtyModule } from "./pty.ts";

/** What the link needs from a running process, whether on pipes or a terminal. */
export interface GuestProcess {
  readonly pid: number;
  write(data: Buffer): boolean;
  endInput(): void;
  resize(size: TtySize): void;
  signal(name: string): void;
  /** Stops (or restarts) reading the process's stdout (1) or stderr (2). */
  setPaused(stream: AgentStreamId, paused: boolean): void;
}

export interface ProcessEvents {
  output(stream: 1 | 2, data: Buffer): void;
  /** The process's stdin is full (true) or drained (false). */
  inputFull(full: boolean): void;
  exit(code: number, error?: string): void;
}

export interface ExecRequest {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  tty: TtySize | null;
}

function signalCode(signal: NodeJS.Signals | number | null | undefined): number {
  if (typeof signal === "number") return 128 + signal;
  return 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
}

/** Signals the whole process group (both kinds lead one), else the process itself. */
function killGroup(pid: number, name: string): void {
  try {
    process.kill(-pid, name);
  } catch {
    try {
      process.kill(pid, name);
    } catch {}
  }
}

/** Pipes; the process leads a new process group so signals reach its children. */
export function spawnPiped(req: ExecRequest, ev: ProcessEvents): GuestProcess | undefined {
  const [file, ...args] = req.argv as [string, ...string[]];
  const child = spawn(file, args, { cwd: req.cwd, env: req.env, detached: true, stdio: "pipe" });
  let failed = false;
  child.on("error", (err: NodeJS.ErrnoException) => {
    failed = true;
    ev.exit(err.code === "ENOENT" ? 127 : 126, `${file}: ${err.message}`);
  });
  if (child.pid === undefined) return undefined;
  child.stdout.on("data", (d: Buffer) => ev.output(1, d));
  child.stderr.on("data", (d: Buffer) => ev.output(2, d));
  child.stdin.on("error", () => {}); // EPIPE when the process stops reading
  child.stdin.on("drain", () => ev.inputFull(false));
  // "close": after the exit and the end of stdout and stderr, so no output follows the exit.
  child.on("close", (code, signal) => {
    if (!failed) ev.exit(code ?? signalCode(signal));
  });
  const pid = child.pid;
  return {
    pid,
    write(data) {
      const ok = child.stdin.write(data);
      if (!ok) ev.inputFull(true);
      return ok;
    },
    endInput: () => child.stdin.end(),
    resize() {},
    signal: (name) => killGroup(pid, name),
    setPaused(stream, paused) {
      const s = stream === 1 ? child.stdout : child.stderr;
      if (paused) s.pause();
      else s.resume();
    },
  };
}

/** A terminal from node-pty; the process leads the terminal's session and process group. */
export function spawnPty(
  pty: PtyModule,
  req: ExecRequest & { tty: TtySize },
  ev: ProcessEvents,
): GuestProcess | undefined {
  const [file, ...args] = req.argv as [string, ...string[]];
  let term: ReturnType<PtyModule["spawn"]>;
  try {
    term = pty.spawn(file, args, {
      name: req.env.TERM ?? "xterm-256color",
      cols: req.tty.cols,
      rows: req.tty.rows,
      cwd: req.cwd,
      env: req.env,
    });
  } catch (err) {
    ev.exit(127, `${file}: ${(err as Error).message}`);
    return undefined;
  }
  term.onData((d) => ev.output(1, Buffer.from(d, "utf8")));
  term.onExit(({ exitCode, signal }) => ev.exit(signal ? signalCode(signal) : exitCode));
  return {
    pid: term.pid,
    write(data) {
      term.write(data);
      return true;
    },
    // A terminal has no end of input; ^D is what ends a read on a line-mode terminal.
    endInput: () => term.write("\x04"),
    resize: (size) => term.resize(size.cols, size.rows),
    signal: (name) => killGroup(term.pid, name),
    setPaused: (_stream, paused) => (paused ? term.pause() : term.resume()),
  };
}
