import { randomBytes } from "node:crypto";
import { requireImage } from "../../images/require-image.ts";
import { NETNS_READY } from "../../sandbox/netns.ts";
import type {
  NetnsHelper,
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

/** On a sandbox: the id of the helper whose network namespace it joined. */
export const RELAY_LABEL = "wm.netns.helper";
/** On a helper: the engine name of the sandbox it serves ("" while it waits as a spare). */
export const RELAY_OF_LABEL = "wm.netns.helper-of";

/** Images whose spare helper is kept; the least recently used beyond this is removed. */
const SPARE_IMAGES = 4;

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
  /**
   * Started helpers waiting for a sandbox, by what they were made for ({@link spareKey}): one
   * each, claimed by the next sandbox that fits and made again behind it.
   */
  readonly #spares = new Map<string, Promise<string>>();
  /** Settled spares' ids, so that a stray sweep leaves them alone. */
  readonly #spareIds = new Set<string>();

  constructor(clients: ContainerClients) {
    this.runtime = clients.containers.runtime;
    this.#c = clients;
  }

  requireImage(image: string): Promise<void> {
    return requireImage(this.#c.images, image);
  }

  async imageId(image: string): Promise<string | undefined> {
    return (await this.#c.images.inspectImage(image))?.id;
  }

  async imageEnv(image: string): Promise<readonly string[] | undefined> {
    return (await this.#c.images.inspectImage(image))?.env;
  }

  guestGateway(): Promise<string | undefined> {
    return this.#c.network.bridgeGateway();
  }

  async create(launch: SandboxLaunch): Promise<SandboxHandle> {
    if (!launch.netns) return this.#c.containers.create(containerSpecOf(launch));
    const { helper, mounts } = launch.netns;
    const spec = containerSpecOf(launch);
    const key = helper.ahead ? spareKey(launch, helper) : undefined;
    const spare = key ? await this.#claimSpare(key) : undefined;
    // A spare stopped or removed behind the daemon's back: this sandbox makes its own helper.
    if (key && spare && (await this.#c.containers.inspect(spare))?.state !== "running") {
      await this.#c.containers.remove(spare).catch(() => undefined);
    } else if (key && spare) {
      let created: SandboxHandle;
      try {
        created = await this.#c.containers.create({
          ...spec,
          labels: { ...spec.labels, [RELAY_LABEL]: spare },
          joinNetworkOf: spare,
          mounts: [...spec.mounts, ...mounts],
        });
      } catch (err) {
        await this.#c.containers.remove(spare).catch(() => undefined);
        throw err;
      }
      // The next one starts while this sandbox starts and runs.
      this.#makeSpare(key, launch, helper);
      return created;
    }
    return this.#createWithHelper(launch, key);
  }

  /** Creates the sandbox's helper, then starts it while the sandbox is created. */
  async #createWithHelper(
    launch: SandboxLaunch,
    spareKey: string | undefined,
  ): Promise<SandboxHandle> {
    const { helper, mounts } = launch.netns as NonNullable<SandboxLaunch["netns"]>;
    const spec = containerSpecOf(launch);
    const helperId = await this.#c.containers.create(helperSpec(launch, helper));
    // The helper starts while the sandbox is created; the sandbox starts once the helper is ready.
    const [started, created] = await Promise.allSettled([
      this.#startHelper(helperId, helper.role),
      this.#c.containers.create({
        ...spec,
        labels: { ...spec.labels, [RELAY_LABEL]: helperId },
        joinNetworkOf: helperId,
        mounts: [...spec.mounts, ...mounts],
      }),
    ]);
    if (started.status === "fulfilled" && created.status === "fulfilled") {
      if (spareKey) this.#makeSpare(spareKey, launch, helper);
      return created.value;
    }
    if (created.status === "fulfilled")
      await this.#c.containers.remove(created.value).catch(() => undefined);
    await this.#c.containers.remove(helperId).catch(() => undefined);
    throw started.status === "rejected"
      ? started.reason
      : (created as PromiseRejectedResult).reason;
  }

  /** The spare made for `key`, now this caller's; undefined when there is none or it failed. */
  async #claimSpare(key: string): Promise<string | undefined> {
    const spare = this.#spares.get(key);
    if (!spare) return undefined;
    this.#spares.delete(key);
    const id = await spare.catch(() => undefined);
    if (id) this.#spareIds.delete(id);
    return id;
  }

  /** Creates and starts a helper for the next sandbox like `launch`, unless one is on its way. */
  #makeSpare(key: string, launch: SandboxLaunch, helper: NetnsHelper): void {
    if (this.#spares.has(key) || !helper.ahead) return;
    const spec: ContainerSpec = {
      ...helperSpec(launch, helper),
      name: `wm-netns-${randomBytes(6).toString("hex")}`,
      labels: { ...helper.ahead.labels, [RELAY_OF_LABEL]: "" },
    };
    const made = (async () => {
      const id = await this.#c.containers.create(spec);
      try {
        await this.#startHelper(id, helper.role);
      } catch (err) {
        await this.#c.containers.remove(id).catch(() => undefined);
        throw err;
      }
      this.#spareIds.add(id);
      return id;
    })();
    // A failed spare is only a slower next start: that sandbox makes its own helper and, if the
    // cause remains, reports it.
    made.catch(() => {
      if (this.#spares.get(key) === made) this.#spares.delete(key);
    });
    this.#spares.set(key, made);
    for (const [old, spare] of this.#spares) {
      if (this.#spares.size <= SPARE_IMAGES) break;
      this.#spares.delete(old);
      void spare.then((id) => this.#dropSpare(id)).catch(() => undefined);
    }
  }

  async #dropSpare(id: string): Promise<void> {
    this.#spareIds.delete(id);
    await this.#c.containers.remove(id).catch(() => undefined);
  }

  /** Removes the spares (the daemon is stopping). */
  async close(): Promise<void> {
    const spares = [...this.#spares.values()];
    this.#spares.clear();
    await Promise.all(
      spares.map((s) => s.then((id) => this.#dropSpare(id)).catch(() => undefined)),
    );
  }

  /** Starts the helper and waits until it says the namespace is ready for the sandbox. */
  async #startHelper(id: string, role: string): Promise<void> {
    const streams = await this.#c.containers.attach(id, { tty: false, stdin: false });
    const ready = helperReady(role, streams.stdout, streams.stderr);
    try {
      await this.#c.containers.start(id);
      await ready;
    } finally {
      streams.close();
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
    if (!c) return undefined;
    const helper = c.labels[RELAY_LABEL];
    // A sandbox in its helper's network namespace has the helper's address.
    const address = helper ? (await this.#c.containers.inspect(helper))?.ipAddress : c.ipAddress;
    return { ...infoOf(c), address };
  }

  async listOwned(labels: Readonly<Record<string, string>>): Promise<SandboxInfo[]> {
    // A relay is part of its sandbox, not a sandbox.
    return (await this.#c.containers.listByLabels(labels))
      .filter((c) => c.labels[RELAY_OF_LABEL] === undefined)
      .map(infoOf);
  }

  async remove(handle: SandboxHandle): Promise<void> {
    const relay = (await this.#c.containers.inspect(handle))?.labels[RELAY_LABEL];
    // Side by side where the engine allows it (Docker); Podman keeps a helper until the
    // sandbox that joined it is gone, so a refused helper goes after it.
    const [sandbox, helper] = await Promise.allSettled([
      this.#c.containers.remove(handle),
      relay ? this.#c.containers.remove(relay) : undefined,
    ]);
    if (sandbox.status === "rejected") throw sandbox.reason;
    if (relay && helper.status === "rejected") await this.#c.containers.remove(relay);
  }

  async removeStrays(labels: Readonly<Record<string, string>>): Promise<string[]> {
    const all = await this.#c.containers.listByLabels(labels);
    const names = new Set(all.map((c) => c.name.replace(/^\//, "")));
    const joined = new Set(all.map((c) => c.labels[RELAY_LABEL]).filter(Boolean));
    const strays = all.filter((c) => {
      const of = c.labels[RELAY_OF_LABEL];
      if (of === undefined || joined.has(c.id) || names.has(of)) return false;
      // A spare of this daemon waits for its sandbox; one of an earlier daemon is a stray.
      return !this.#spareIds.has(c.id);
    });
    for (const c of strays) await this.#c.containers.remove(c.id).catch(() => undefined);
    return strays.map((c) => c.name);
  }
}

/** The container that owns a sandbox's network namespace, from the sandbox's own image. */
function helperSpec(launch: SandboxLaunch, h: NetnsHelper): ContainerSpec {
  return {
    name: `${launch.name}-net`,
    image: launch.image,
    user: `${h.user.uid}:${h.user.gid}`,
    workdir: "/",
    cmd: h.command,
    env: {},
    mounts: h.mounts,
    labels: { ...launch.labels, [RELAY_OF_LABEL]: launch.name },
    tty: false,
    openStdin: false,
    pidsLimit: 64,
    memoryBytes: 256 * 1024 * 1024,
    capAdd: h.capAdd,
    ...(h.network === "none" ? { networkMode: "none" } : {}),
    sysctls: h.sysctls,
    ociRuntime: launch.ociRuntime,
  };
}

/** Resolves when the helper says the namespace is ready; rejects with its output when it ends first. */
function helperReady(
  role: string,
  stdout: NodeJS.ReadableStream,
  stderr: NodeJS.ReadableStream,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString("utf8");
    });
    const onData = (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (out.includes(NETNS_READY)) {
        stdout.off("data", onData);
        resolve();
      }
    };
    stdout.on("data", onData);
    const ended = () =>
      reject(
        new Error(
          `the sandbox's ${role} ended before it was ready: ${(err || out).trim() || "no output"}`,
        ),
      );
    stdout.once("end", ended);
    stdout.once("close", ended);
  });
}

/** What a spare helper must match to serve a sandbox: its image, runtime and mounts. */
function spareKey(launch: SandboxLaunch, helper: NetnsHelper): string {
  return JSON.stringify([launch.image, launch.ociRuntime ?? "", helper.mounts, helper.command]);
}
