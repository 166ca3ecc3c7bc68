import type { Readable, Writable } from "node:stream";
import type { MountSpec, RuntimeName } from "./types.ts";
import type { VmLaunch } from "./vm/vm-sandbox.ts";

/** Where a sandbox runs: a container engine, or a VM (`sandbox.backend: lima`/`vm`). */
export type SandboxRuntime = RuntimeName | "vm";

/**
 * What one sandbox runs, fully resolved: the launch plan (sandbox/launch-plan.ts) with its
 * mounts found on disk and its environment complete. Backend-neutral: a container engine turns
 * it into a container, a VM backend into a guest with the same mounts shared in.
 */
export interface SandboxLaunch {
  /** The name the engine shows (`wm-<name>-<id>`). */
  name: string;
  image: string;
  /** The host user the agent runs as (the worktree's owner). */
  user: { uid: number; gid: number };
  workdir: string;
  command: readonly string[];
  env: Readonly<Record<string, string>>;
  /** Applied in order: later mounts may sit on top of earlier ones. */
  mounts: readonly MountSpec[];
  /** Carried by the sandbox, so the daemon finds its own and rebuilds a lost record from them. */
  labels: Readonly<Record<string, string>>;
  /** A terminal for the command, and whether its stdin is open. */
  terminal: { tty: boolean; stdin: boolean };
  limits: {
    pids: number;
    /** Bytes; undefined = the backend's default. */
    memoryBytes?: number | undefined;
    /** CPUs as a fraction (1.5 = one and a half). */
    cpus?: number | undefined;
  };
  /** A container engine's OCI runtime (`runsc`, `kata`); undefined = its default. */
  ociRuntime?: string | undefined;
  /** The VM backend's part: which VM, what it exports, its size. */
  vm?: VmLaunch | undefined;
  /**
   * The sandbox has no network namespace of its own: it joins that of a helper the backend
   * starts first, from the same image, and removes with it (sandbox/netns.ts: the egress relay
   * under `network.policy: deny`, else a holder that routes cloud metadata nowhere). `mounts`
   * go into the sandbox itself (its resolv.conf).
   */
  netns?: { helper: NetnsHelper; mounts: readonly MountSpec[] } | undefined;
}

/** The container that owns a sandbox's network namespace. */
export interface NetnsHelper {
  /** For messages: "egress relay", "network holder". */
  role: string;
  command: readonly string[];
  user: { uid: number; gid: number };
  mounts: readonly MountSpec[];
  /** Capabilities the helper keeps (never the sandbox). */
  capAdd: readonly string[];
  /** "none": loopback only; "default": the engine's default network. */
  network: "none" | "default";
  sysctls: Readonly<Record<string, string>>;
  /**
   * The helper holds nothing of one sandbox, so one started ahead of need may serve: it then
   * carries only these labels (the daemon's own), and the backend keeps one ready per image.
   */
  ahead?: { labels: Readonly<Record<string, string>> } | undefined;
}

/** The backend's id of a sandbox (a container id); what a record keeps to find it again. */
export type SandboxHandle = string;

/** A sandbox's terminal: bytes in and out. */
export interface SandboxStreams {
  /** Bytes to the command's stdin (absent when it was not opened). */
  stdin: Writable | undefined;
  stdout: Readable;
  stderr: Readable;
  close(): void;
}

/** What a backend reports of one sandbox. */
export interface SandboxInfo {
  handle: SandboxHandle;
  name: string;
  image: string;
  running: boolean;
  /** Set once it has stopped, when the backend knows it. */
  exitCode: number | undefined;
  labels: Record<string, string>;
  /** The sandbox's own network address, when it has one the host can see. */
  address: string | undefined;
}

/**
 * Where sandboxes run. The sandbox manager talks to sandboxes through this only; each runtime
 * (Docker, Podman, and later a VM) is one implementation. Calls on a sandbox already gone
 * succeed quietly where the outcome is the same (stop, signal, remove).
 */
export interface SandboxBackend {
  readonly runtime: SandboxRuntime;
  /** Refuses (RpcError Unavailable, naming the command that fixes it) an image that cannot run. */
  requireImage(image: string): Promise<void>;
  /** The image's id as the engine has it now (tells a rebuilt image from the one used before). */
  imageId?(image: string): Promise<string | undefined>;
  /** The image's own environment, `NAME=value` (host-command wrappers go in front of its PATH). */
  imageEnv(image: string): Promise<readonly string[] | undefined>;
  /** The host address a sandbox reaches the daemon's TCP endpoint on, if there is one. */
  guestGateway(): Promise<string | undefined>;
  create(launch: SandboxLaunch): Promise<SandboxHandle>;
  /** Attach before start to miss no output. */
  attach(handle: SandboxHandle, opts: { tty: boolean; stdin: boolean }): Promise<SandboxStreams>;
  start(handle: SandboxHandle): Promise<void>;
  /** The exit code once the sandbox has stopped; call it after start. */
  wait(handle: SandboxHandle): Promise<number>;
  /** Send a signal (e.g. "SIGINT") to the sandbox's command. */
  signal(handle: SandboxHandle, signal: string): Promise<void>;
  resize(handle: SandboxHandle, size: { rows: number; cols: number }): Promise<void>;
  stop(handle: SandboxHandle, timeoutSeconds: number): Promise<void>;
  inspect(handle: SandboxHandle): Promise<SandboxInfo | undefined>;
  /** Every sandbox carrying all of `labels` (never all sandboxes: `labels` may not be empty). */
  listOwned(labels: Readonly<Record<string, string>>): Promise<SandboxInfo[]>;
  /** Removes the sandbox and what only it used; one already gone is fine. */
  remove(handle: SandboxHandle): Promise<void>;
  /** Removes what a sandbox used (an egress relay) whose sandbox is gone. Their names. */
  removeStrays?(labels: Readonly<Record<string, string>>): Promise<string[]>;
  /** Removes what the backend made ahead of need (the daemon is stopping). */
  close?(): Promise<void>;
}

/**
 * Whether `have` carries every label of `want`: the test behind `listOwned`. An empty `want`
 * would match every sandbox of every owner, so it is an error.
 */
export function carriesLabels(
  have: Readonly<Record<string, string>>,
  want: Readonly<Record<string, string>>,
): boolean {
  const wanted = Object.entries(want);
  if (wanted.length === 0) throw new Error("listOwned needs at least one label");
  return wanted.every(([k, v]) => have[k] === v);
}
