import type { Readable, Writable } from "node:stream";

export type RuntimeName = "docker" | "podman";

export interface MountSpec {
  /** Absolute host path (already resolved with realpath by the caller). */
  source: string;
  /** Absolute path inside the container. */
  target: string;
  readOnly: boolean;
}

export interface ContainerSpec {
  name: string;
  image: string;
  /** "uid:gid" of the host user the agent runs as. */
  user: string;
  workdir: string;
  cmd: readonly string[];
  env: Readonly<Record<string, string>>;
  /** Applied in order: later mounts may sit on top of earlier ones. */
  mounts: readonly MountSpec[];
  labels: Readonly<Record<string, string>>;
  tty: boolean;
  openStdin: boolean;
  pidsLimit: number;
  /** Bytes; undefined = engine default. */
  memoryBytes?: number | undefined;
  /** CPUs as a fraction (1.5 = one and a half). */
  cpus?: number | undefined;
  capAdd?: readonly string[] | undefined;
  securityOpt?: readonly string[] | undefined;
  /** e.g. "host.docker.internal:host-gateway" */
  extraHosts?: readonly string[] | undefined;
  networkMode?: string | undefined;
  /**
   * Join this container's network namespace (`container:<id>`): only for a sandbox and its
   * own egress relay, which the backend made for it. `networkMode` never takes that form.
   */
  joinNetworkOf?: string | undefined;
  /** Namespaced kernel settings of the container's own network namespace. */
  sysctls?: Readonly<Record<string, string>> | undefined;
  /** The engine's OCI runtime to run it with (`runsc`, `kata`); undefined = the engine default. */
  ociRuntime?: string | undefined;
}

export type ContainerState =
  | "created"
  | "running"
  | "paused"
  | "restarting"
  | "exited"
  | "dead"
  | "removing";

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  state: ContainerState;
  exitCode: number | undefined;
  labels: Record<string, string>;
  /** The container's address on its bridge network and that network's gateway, when running. */
  ipAddress: string | undefined;
  gateway: string | undefined;
}

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
  created: string;
  /** The image's own environment, `NAME=value` (its PATH among them). */
  env?: readonly string[];
}

export interface AttachedStreams {
  /** Bytes to the container's stdin (absent when it was not opened). */
  stdin: Writable | undefined;
  stdout: Readable;
  stderr: Readable;
  close(): void;
}

export interface BuildProgress {
  /** One line of builder output, or an error. */
  line?: string;
  error?: string;
}

export interface EngineVersion {
  /** Server component name as the engine reports it, e.g. "Engine" or "Podman Engine". */
  name: string;
  version: string;
  apiVersion: string;
}

/** The engine itself: which one, its version, and the OCI runtimes it knows. */
export interface EngineClient {
  readonly runtime: RuntimeName;
  version(): Promise<string>;
  /** The names of the OCI runtimes the engine knows (its `/info` `Runtimes`). */
  runtimes(): Promise<string[]>;
}

/** Containers of one engine, by id. */
export interface ContainerClient {
  readonly runtime: RuntimeName;
  create(spec: ContainerSpec): Promise<string>;
  start(id: string): Promise<void>;
  /** Attach before start to miss no output. */
  attach(id: string, opts: { tty: boolean; stdin: boolean }): Promise<AttachedStreams>;
  resize(id: string, size: { rows: number; cols: number }): Promise<void>;
  wait(id: string): Promise<number>;
  /** Send a signal (e.g. "SIGINT") to the container's init, which passes it on. */
  kill(id: string, signal: string): Promise<void>;
  stop(id: string, timeoutSeconds?: number): Promise<void>;
  remove(id: string): Promise<void>;
  inspect(id: string): Promise<ContainerInfo | undefined>;
  listByLabels(labels: Readonly<Record<string, string>>): Promise<ContainerInfo[]>;
  /** Run a command in a running container and collect its output. */
  exec(
    id: string,
    cmd: readonly string[],
    opts?: { user?: string },
  ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

/** Images of one engine, by name. */
export interface ImageClient {
  readonly runtime: RuntimeName;
  inspectImage(name: string): Promise<ImageInfo | undefined>;
  /** Build from a tar stream (Dockerfile at its root), reporting each line of progress. */
  buildImage(
    context: Readable,
    opts: {
      tag: string;
      labels: Readonly<Record<string, string>>;
      onProgress(p: BuildProgress): void;
    },
  ): Promise<void>;
}

/** The engine's networks, as far as a sandbox needs them. */
export interface NetworkClient {
  readonly runtime: RuntimeName;
  /** The gateway address of the engine's default bridge network (where a TCP endpoint listens). */
  bridgeGateway(): Promise<string | undefined>;
}

/**
 * A container engine over one connection. Docker and Podman (through its Docker-compatible
 * API) implement it; the daemon never talks to an engine any other way. Code that needs one
 * part asks for that client only (image code an {@link ImageClient}).
 */
export type ContainerEngine = EngineClient & ContainerClient & ImageClient & NetworkClient;
