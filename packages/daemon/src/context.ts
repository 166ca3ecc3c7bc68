import type { WmPaths } from "@wm/protocol";
import type { Backends } from "./backends/backend-set.ts";
import type { ShownConfigWarnings } from "./config/shown-warnings.ts";
import type { EventBus } from "./events.ts";
import type { Logger } from "./log.ts";
import type { SandboxManager } from "./sandbox/manager.ts";
import type { WorktreeStore } from "./sandbox/worktree-store.ts";
import type { WorktreeService } from "./worktrees/service.ts";

export interface DaemonSettings {
  /** 0 = never exit on idle. */
  idleTimeoutMs: number;
  logLevel: string;
  /** Largest accepted HTTP body, bytes. */
  bodyLimit: number;
  /** Largest accepted WebSocket message, bytes. */
  wsMaxPayload: number;
  /** Origins allowed to open a WebSocket; requests without Origin are always allowed. */
  allowedOrigins: readonly string[];
}

/** What every handler can reach: the daemon's state and its services. */
export interface DaemonContext {
  readonly paths: WmPaths;
  readonly settings: DaemonSettings;
  readonly log: Logger;
  readonly events: EventBus;
  readonly pid: number;
  readonly startedAt: Date;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
  socketActivated: boolean;
  /** Tells this daemon's containers from another daemon's of the same user (hash of the state dir). */
  readonly homeId: string;
  /** The container engines and the sandbox backends over them, connected on first use. */
  readonly backends: Backends;
  /** Set once the daemon is listening. */
  sandboxes: SandboxManager;
  /** The worktree state and lookups every worktree handler shares; set with `sandboxes`. */
  worktrees: WorktreeService;
  /** The git facts of each worktree as first met (`worktrees.json`). */
  readonly worktreeRecords: WorktreeStore;
  /** Which config files' warnings commands have printed, as each file was then. */
  readonly shownConfigWarnings: ShownConfigWarnings;
  liveSandboxes(): number;
  /** Ask the daemon to stop once in-flight calls are done. Idempotent. */
  requestShutdown(reason: string): void;
  readonly shuttingDown: boolean;
}

/** One call's view: which surface it arrived on and how to push notifications back. */
export interface CallContext {
  readonly daemon: DaemonContext;
  readonly surface: "host" | "guest";
  /** On the guest surface: the sandbox the call arrived from (identity = its endpoint). */
  readonly sandbox?: { readonly id: string; readonly worktree: string };
  /** On WebSocket calls: binary frames to and from this connection (terminal streams). */
  readonly binary?: {
    send(frame: Buffer): void;
    onFrame(fn: (frame: Buffer) => void): void;
  };
  /** Present on WebSocket calls: push a notification on the same connection. */
  readonly notify?: (method: string, params: Record<string, unknown>) => void;
  /** Present on WebSocket calls: run `fn` when the connection closes. */
  readonly onClose?: (fn: () => void) => void;
}
