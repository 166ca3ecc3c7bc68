import { requireImage } from "../../images/require-image.ts";
import type {
  SandboxBackend,
  SandboxHandle,
  SandboxInfo,
  SandboxLaunch,
  SandboxStreams,
} from "../sandbox-backend.ts";
import type {
  ContainerClient,
  ContainerInfo,
  ContainerSpec,
  ImageClient,
  NetworkClient,
  RuntimeName,
} from "../types.ts";

/** The engine clients a container sandbox needs (one DockerBackend is all three). */
export interface ContainerClients {
  containers: ContainerClient;
  images: ImageClient;
  network: NetworkClient;
}

/** A launch as the engine's container spec. */
export function containerSpecOf(launch: SandboxLaunch): ContainerSpec {
  return {
    name: launch.name,
    image: launch.image,
    user: `${launch.user.uid}:${launch.user.gid}`,
    workdir: launch.workdir,
    cmd: launch.command,
    env: launch.env,
    mounts: launch.mounts,
    labels: launch.labels,
    tty: launch.terminal.tty,
    openStdin: launch.terminal.stdin,
    pidsLimit: launch.limits.pids,
    memoryBytes: launch.limits.memoryBytes,
    cpus: launch.limits.cpus,
    ociRuntime: launch.ociRuntime,
  };
}

function infoOf(c: ContainerInfo): SandboxInfo {
  return {
    handle: c.id,
    name: c.name,
    image: c.image,
    running: c.state === "running",
    exitCode: c.exitCode,
    labels: c.labels,
    address: c.ipAddress,
  };
}

/** Sandboxes as containers of one engine (Docker, or Podman through its compatible API). */
export class ContainerSandboxBackend implements SandboxBackend {
  readonly runtime: RuntimeName;
  readonly #c: ContainerClients;

  constructor(clients: ContainerClients) {
    this.runtime = clients.containers.runtime;
    this.#c = clients;
  }

  requireImage(image: string): Promise<void> {
    return requireImage(this.#c.images, image);
  }

  async imageEnv(image: string): Promise<readonly string[] | undefined> {
    return (await this.#c.images.inspectImage(image))?.env;
  }

  guestGateway(): Promise<string | undefined> {
    return this.#c.network.bridgeGateway();
  }

  create(launch: SandboxLaunch): Promise<SandboxHandle> {
    return this.#c.containers.create(containerSpecOf(launch));
  }

  attach(handle: SandboxHandle, opts: { tty: boolean; stdin: boolean }): Promise<SandboxStreams> {
    return this.#c.containers.attach(handle, opts);
  }

  start(handle: SandboxHandle): Promise<void> {
    return this.#c.containers.start(handle);
  }

  wait(handle: SandboxHandle): Promise<number> {
    return this.#c.containers.wait(handle);
  }

  signal(handle: SandboxHandle, signal: string): Promise<void> {
    return this.#c.containers.kill(handle, signal);
  }

  resize(handle: SandboxHandle, size: { rows: number; cols: number }): Promise<void> {
    return this.#c.containers.resize(handle, size);
  }

  stop(handle: SandboxHandle, timeoutSeconds: number): Promise<void> {
    return this.#c.containers.stop(handle, timeoutSeconds);
  }

  async inspect(handle: SandboxHandle): Promise<SandboxInfo | undefined> {
    const c = await this.#c.containers.inspect(handle);
    return c ? infoOf(c) : undefined;
  }

  async listOwned(labels: Readonly<Record<string, string>>): Promise<SandboxInfo[]> {
    return (await this.#c.containers.listByLabels(labels)).map(infoOf);
  }

  remove(handle: SandboxHandle): Promise<void> {
    return this.#c.containers.remove(handle);
  }
}
