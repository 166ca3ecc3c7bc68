import { execFile } from "node:child_process";
import { displaySafe } from "@wm/protocol";

/** A tmux server: `-S path` or `-L name`. */
export type TmuxServer = { readonly socketPath: string } | { readonly socketName: string };

export class TmuxError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | null,
    /** tmux was not found on the PATH it was run with. */
    readonly missing = false,
  ) {
    super(`tmux ${args[0] ?? ""} failed: ${stderr.trim() || `exit ${exitCode}`}`);
    this.name = "TmuxError";
  }

  /** The server is not running (or its socket is gone). */
  get noServer(): boolean {
    return /no server running|error connecting|No such file or directory/i.test(this.stderr);
  }
}

export interface Tmux {
  readonly server: TmuxServer;
  /**
   * Runs `tmux -u <server> <args>` (argv, no shell) and resolves with stdout without its last
   * newline. `-u`: UTF-8 and tabs come back unescaped whatever the daemon's locale.
   */
  run(args: readonly string[]): Promise<string>;
  /** Like run, but undefined instead of an error. */
  tryRun(args: readonly string[]): Promise<string | undefined>;
}

export interface TmuxOptions {
  /** Environment for tmux (and for a server it starts); TMUX and TMUX_PANE are dropped. */
  env: Readonly<Record<string, string | undefined>>;
  binary?: string;
  timeoutMs?: number;
}

function serverArgs(server: TmuxServer): string[] {
  return "socketPath" in server ? ["-S", server.socketPath] : ["-L", server.socketName];
}

export function createTmux(server: TmuxServer, opts: TmuxOptions): Tmux {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env)) {
    if (v !== undefined && k !== "TMUX" && k !== "TMUX_PANE") env[k] = v;
  }
  const prefix = ["-u", ...serverArgs(server)];
  const run = (args: readonly string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile(
        opts.binary ?? "tmux",
        [...prefix, ...args],
        { env, shell: false, timeout: opts.timeoutMs ?? 15_000, encoding: "utf8" },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout.replace(/\n$/, ""));
          const raw = (err as { code?: unknown }).code;
          const code = typeof raw === "number" ? raw : null;
          reject(new TmuxError(args, stderr || err.message, code, raw === "ENOENT"));
        },
      );
    });
  return {
    server,
    run,
    tryRun: (args) => run(args).catch(() => undefined),
  };
}

/** True when `tmux` is not on `env`'s PATH (the PATH tmux is run with). */
export async function tmuxMissing(env: TmuxOptions["env"]): Promise<boolean> {
  try {
    await createTmux({ socketName: "default" }, { env }).run(["-V"]);
    return false;
  } catch (err) {
    return err instanceof TmuxError && err.missing;
  }
}

/**
 * A name as tmux should show it (new-window -n, rename-window, new-session -s): control and
 * bidi formatting characters as visible escapes (`displaySafe`), and `#`, which starts a format
 * tmux expands, doubled to a literal `##`.
 */
export function literalName(name: string): string {
  return displaySafe(name).replaceAll("#", "##");
}
