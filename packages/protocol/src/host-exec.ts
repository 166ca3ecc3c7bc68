/**
 * Host commands: a sandbox runs an allow-listed host tool over `GET /exec` on its guest
 * endpoint, a WebSocket. Plain TypeScript (no zod) so the shim can import it.
 *
 * Client → daemon: first a text message, {@link ExecStart}; then binary frames
 * `[StreamChannel.Stdin, ...bytes]` (streams.ts) (a frame of just the channel byte is EOF) and text control
 * messages, {@link ExecControl}. Daemon → client: binary `[Stdout|Stderr, ...bytes]`, then one
 * text {@link ExecEnd} and a normal close. Bytes are never decoded on either side.
 */
export const EXEC_PATH = "/exec";

/** Names a host command may have: no path separators, no leading dot or dash. */
export const HOST_COMMAND_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Signals a client may forward to the host child's process group. */
export const EXEC_SIGNALS = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
] as const;
export type ExecSignal = (typeof EXEC_SIGNALS)[number];

export interface TerminalSize {
  rows: number;
  cols: number;
}

export interface ExecStart {
  /** argv[0] is the command's name from `sandbox.host_commands`; the rest are passed as is. */
  argv: string[];
  /** The caller's working directory; the same path on the host, inside the worktree. */
  cwd: string;
  /** Only the terminal and locale names the daemon accepts (it refuses others). */
  env: Record<string, string>;
  /** Present when the caller has a terminal: the host child gets a PTY of this size. */
  tty: TerminalSize | null;
}

export type ExecControl = { resize: TerminalSize } | { signal: ExecSignal };

export type ExecEnd =
  | { exit: { code: number; signal: string | null } }
  | { error: { code: number; message: string; data?: unknown } };

/**
 * Variables of the caller's environment a host command may get: terminal and locale only. The
 * shim sends those it has; the daemon refuses a call that sends any other.
 */
export const EXEC_ENV_ALLOWED: readonly string[] = [
  "TERM",
  "COLORTERM",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "LC_MESSAGES",
  "NO_COLOR",
  "FORCE_COLOR",
  "CLICOLOR",
  "CI",
  "COLUMNS",
  "LINES",
  "TZ",
];

/** Exit code for a command that is not allowed or not found, as a shell would give. */
export const EXIT_NOT_FOUND = 127;
