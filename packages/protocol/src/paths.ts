/**
 * Where wm keeps its socket, registration, lock, logs and state. A pure function of
 * (env, platform, uid, home, tmpdir) so that every branch is testable without touching
 * the real process.
 */

export interface PathContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  readonly uid: number;
  readonly homedir: string;
  readonly tmpdir: string;
}

export type RuntimeDirSource = "WM_RUNTIME_DIR" | "XDG_RUNTIME_DIR" | "fallback";

export interface WmPaths {
  /** Owner-only directory holding the socket, registration file and start lock. */
  readonly runtimeDir: string;
  readonly runtimeDirSource: RuntimeDirSource;
  readonly socketPath: string;
  readonly registrationFile: string;
  readonly lockFile: string;
  /** Per-sandbox guest sockets live here. */
  readonly sandboxSocketDir: string;
  /** `$XDG_STATE_HOME/wm`: log and durable state. */
  readonly stateDir: string;
  readonly logFile: string;
  /** `$XDG_CONFIG_HOME/workmux`: the global config directory shared with workmux. */
  readonly configDir: string;
}

/** Longest socket path (bytes, without the trailing NUL) each platform accepts. */
export function socketPathLimit(platform: NodeJS.Platform): number {
  return platform === "linux" || platform === "android" ? 107 : 103;
}

export class SocketPathTooLongError extends Error {
  constructor(
    readonly socketPath: string,
    readonly bytes: number,
    readonly limit: number,
    readonly source: RuntimeDirSource,
  ) {
    super(
      `socket path ${socketPath} is ${bytes} bytes, over the ${limit}-byte limit for Unix sockets on this platform` +
        `${source === "fallback" ? "" : ` (the directory comes from ${source})`}; ` +
        "set WM_RUNTIME_DIR to a shorter owner-only directory, e.g. WM_RUNTIME_DIR=/tmp/wm-$(id -u)",
    );
    this.name = "SocketPathTooLongError";
  }
}

function join(...parts: string[]): string {
  return parts.join("/").replace(/\/{2,}/g, "/");
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.length > 0 && v.startsWith("/") ? v : undefined;
}

export function resolvePaths(ctx: PathContext): WmPaths {
  const { env } = ctx;
  let runtimeDir: string;
  let runtimeDirSource: RuntimeDirSource;
  const override = nonEmpty(env.WM_RUNTIME_DIR);
  const xdgRuntime = nonEmpty(env.XDG_RUNTIME_DIR);
  if (override) {
    runtimeDir = override.replace(/\/+$/, "") || "/";
    runtimeDirSource = "WM_RUNTIME_DIR";
  } else if (xdgRuntime) {
    runtimeDir = join(xdgRuntime, "wm");
    runtimeDirSource = "XDG_RUNTIME_DIR";
  } else {
    runtimeDir = join(ctx.tmpdir, `wm-${ctx.uid}`);
    runtimeDirSource = "fallback";
  }
  const socketPath = join(runtimeDir, "daemon.sock");
  const bytes = Buffer.byteLength(socketPath);
  const limit = socketPathLimit(ctx.platform);
  if (bytes > limit) throw new SocketPathTooLongError(socketPath, bytes, limit, runtimeDirSource);

  const stateHome = nonEmpty(env.XDG_STATE_HOME) ?? join(ctx.homedir, ".local/state");
  const configHome = nonEmpty(env.XDG_CONFIG_HOME) ?? join(ctx.homedir, ".config");
  const stateDir = join(stateHome, "wm");
  return {
    runtimeDir,
    runtimeDirSource,
    socketPath,
    registrationFile: join(runtimeDir, "daemon.json"),
    lockFile: join(runtimeDir, "daemon.lock"),
    sandboxSocketDir: join(runtimeDir, "sandboxes"),
    stateDir,
    logFile: join(stateDir, "daemon.log"),
    configDir: join(configHome, "workmux"),
  };
}

/** The registration file the daemon writes once it listens; clients read it to find it. */
export interface Registration {
  pid: number;
  socketPath: string;
  version: string;
  protocolVersion: number;
  startedAt: string;
}
