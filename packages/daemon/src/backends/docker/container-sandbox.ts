import { promises as fs } from "node:fs";
import path from "node:path";
import { requireImage } from "../../images/require-image.ts";
import { SHIM_MOUNT } from "../../sandbox/shim-runtime.ts";
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

/** On a sandbox under `network.policy: deny`: the id of its relay container. */
export const RELAY_LABEL = "wm.egress.relay";
/** On a relay container: the engine name of the sandbox it serves. */
export const RELAY_OF_LABEL = "wm.egress.relay-of";
/** Where the relay sees the daemon's sockets for its sandbox. */
const RELAY_MOUNT = "/run/wm-egress";
/** What the relay prints once it listens. */
const RELAY_READY = "relay ready";

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

  async create(launch: SandboxLaunch): Promise<SandboxHandle> {
    if (!launch.egress) return this.#c.containers.create(containerSpecOf(launch));
    const { socketDir } = launch.egress;
    const relay = await this.#startRelay(launch, socketDir);
    try {
      const resolvConf = path.join(socketDir, "resolv.conf");
      await fs.writeFile(resolvConf, "nameserver 127.0.0.1\noptions ndots:0 attempts:2\n", {
        mode: 0o644,
      });
      const spec = containerSpecOf(launch);
      return await this.#c.containers.create({
        ...spec,
        labels: { ...spec.labels, [RELAY_LABEL]: relay },
        joinNetworkOf: relay,
        mounts: [
          ...spec.mounts,
          { source: resolvConf, target: "/etc/resolv.conf", readOnly: true },
        ],
      });
    } catch (err) {
      await this.#c.containers.remove(relay).catch(() => undefined);
      throw err;
    }
  }

  /**
   * The relay: a container with no network but loopback, running the shim's `relay` from the
   * sandbox's own image, listening before the sandbox (which joins its network) exists.
   */
  async #startRelay(launch: SandboxLaunch, socketDir: string): Promise<string> {
    const shim = launch.mounts.filter(
      (m) => m.target === SHIM_MOUNT || m.target.startsWith(`${SHIM_MOUNT}/`),
    );
    const relay = await this.#c.containers.create({
      name: `${launch.name}-egress`,
      image: launch.image,
      user: `${launch.user.uid}:${launch.user.gid}`,
      workdir: "/",
      cmd: [`${SHIM_MOUNT}/bin/wm`, "relay", RELAY_MOUNT],
      env: {},
      mounts: [...shim, { source: socketDir, target: RELAY_MOUNT, readOnly: true }],
      labels: { ...launch.labels, [RELAY_OF_LABEL]: launch.name },
      tty: false,
      openStdin: false,
      pidsLimit: 64,
      memoryBytes: 256 * 1024 * 1024,
      networkMode: "none",
      // Port 53 without a capability: the setting belongs to the relay's own namespace.
      sysctls: { "net.ipv4.ip_unprivileged_port_start": "0" },
      ociRuntime: launch.ociRuntime,
    });
    try {
      const streams = await this.#c.containers.attach(relay, { tty: false, stdin: false });
      const ready = relayReady(streams.stdout, streams.stderr);
      await this.#c.containers.start(relay);
      await ready.finally(() => streams.close());
      return relay;
    } catch (err) {
      await this.#c.containers.remove(relay).catch(() => undefined);
      throw err;
    }
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
    // A relay is part of its sandbox, not a sandbox.
    return (await this.#c.containers.listByLabels(labels))
      .filter((c) => c.labels[RELAY_OF_LABEL] === undefined)
      .map(infoOf);
  }

  async remove(handle: SandboxHandle): Promise<void> {
    const relay = (await this.#c.containers.inspect(handle))?.labels[RELAY_LABEL];
    await this.#c.containers.remove(handle);
    if (relay) await this.#c.containers.remove(relay);
  }

  async removeStrays(labels: Readonly<Record<string, string>>): Promise<string[]> {
    const all = await this.#c.containers.listByLabels(labels);
    const names = new Set(all.map((c) => c.name.replace(/^\//, "")));
    const strays = all.filter((c) => {
      const of = c.labels[RELAY_OF_LABEL];
      return of !== undefined && !names.has(of);
    });
    for (const c of strays) await this.#c.containers.remove(c.id).catch(() => undefined);
    return strays.map((c) => c.name);
  }
}

/** Resolves when the relay says it listens; rejects with its output when it ends before. */
function relayReady(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString("utf8");
    });
    const onData = (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (out.includes(RELAY_READY)) {
        stdout.off("data", onData);
        resolve();
      }
    };
    stdout.on("data", onData);
    const ended = () =>
      reject(
        new Error(
          `the sandbox's egress relay ended before it listened: ${(err || out).trim() || "no output"}`,
        ),
      );
    stdout.once("end", ended);
    stdout.once("close", ended);
  });
}
