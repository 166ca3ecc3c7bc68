import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type Docker from "dockerode";
import type {
  AttachedStreams,
  BuildProgress,
  ContainerClient,
  ContainerInfo,
  ContainerSpec,
  EngineClient,
  ImageClient,
  ImageInfo,
  NetworkClient,
  RuntimeName,
} from "../types.ts";
import { followBuild } from "./build-progress.ts";
import { fromInspect, fromListing, labelFilters } from "./container-info.ts";
import { checkSources, checkSpec, toCreateOptions } from "./create-options.ts";
import { engineAt } from "./engine-client.ts";
import { type EngineError, statusOf, wrapEngineError } from "./engine-error.ts";
import { engineSockets } from "./engine-sockets.ts";
import { explainCreate, explainStart, gatewayOf } from "./explain.ts";
import { attachPath, hijack } from "./hijack.ts";
import { attachedStreams, collectOutput, DETACH_KEYS } from "./streams.ts";

export interface DockerBackendOptions {
  runtime: RuntimeName;
  socketPath: string;
  /** Bytes of each exec output stream kept; the rest is counted and dropped. */
  execOutputLimit?: number;
}

/**
 * Docker's Engine API, spoken by Docker itself and by Podman's compatibility service: every
 * client of a container engine over one dockerode connection.
 */
export class DockerBackend implements EngineClient, ContainerClient, ImageClient, NetworkClient {
  readonly runtime: RuntimeName;
  readonly socketPath: string;
  private readonly docker: Docker;
  private readonly execOutputLimit: number;

  constructor(opts: DockerBackendOptions) {
    this.runtime = opts.runtime;
    this.socketPath = opts.socketPath;
    this.docker = engineAt(opts.socketPath);
    this.execOutputLimit = opts.execOutputLimit ?? 8 * 1024 * 1024;
  }

  private fail(
    what: string,
    err: unknown,
    explain?: (status: number | undefined, message: string) => string | undefined,
  ): EngineError {
    return wrapEngineError(this.runtime, this.socketPath, what, err, explain);
  }

  async version(): Promise<string> {
    try {
      return (await this.docker.version()).Version;
    } catch (err) {
      throw this.fail("read the engine version", err);
    }
  }

  async runtimes(): Promise<string[]> {
    try {
      const info = (await this.docker.info()) as { Runtimes?: Record<string, unknown> };
      return Object.keys(info.Runtimes ?? {}).sort();
    } catch (err) {
      throw this.fail("list the engine's OCI runtimes", err);
    }
  }

  async create(spec: ContainerSpec): Promise<string> {
    const what = `create container ${spec.name}`;
    try {
      checkSpec(spec, await engineSockets(this.socketPath));
      await checkSources(spec);
    } catch (err) {
      throw this.fail(what, err);
    }
    try {
      return (await this.docker.createContainer(toCreateOptions(spec))).id;
    } catch (err) {
      throw this.fail(what, err, explainCreate(spec));
    }
  }

  async start(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      if (statusOf(err) === 304) return;
      throw this.fail(`start container ${id}`, err, explainStart);
    }
  }

  async attach(id: string, opts: { tty: boolean; stdin: boolean }): Promise<AttachedStreams> {
    try {
      const raw = await hijack(this.socketPath, attachPath(id, opts.stdin, DETACH_KEYS));
      return attachedStreams(this.docker.modem, raw, opts);
    } catch (err) {
      throw this.fail(`attach to container ${id}`, err);
    }
  }

  async resize(id: string, size: { rows: number; cols: number }): Promise<void> {
    try {
      await this.docker.getContainer(id).resize({ h: size.rows, w: size.cols });
    } catch (err) {
      throw this.fail(`resize the terminal of container ${id}`, err);
    }
  }

  /** The exit code once the container is not running; call it after start. */
  async wait(id: string): Promise<number> {
    try {
      const result = (await this.docker.getContainer(id).wait()) as { StatusCode: number };
      return result.StatusCode;
    } catch (err) {
      throw this.fail(`wait for container ${id}`, err);
    }
  }

  async kill(id: string, signal: string): Promise<void> {
    try {
      await this.docker.getContainer(id).kill({ signal });
    } catch (err) {
      // Not running any more: Docker answers 409, Podman 500 "container state improper".
      if (statusOf(err) === 409 || /state improper|is not running/.test(String(err))) return;
      throw this.fail(`send ${signal} to container ${id}`, err);
    }
  }

  async bridgeGateway(): Promise<string | undefined> {
    const name = this.runtime === "podman" ? "podman" : "bridge";
    try {
      return gatewayOf(await this.docker.getNetwork(name).inspect());
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.fail(`inspect the ${name} network`, err);
    }
  }

  async stop(id: string, timeoutSeconds = 10): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: timeoutSeconds });
    } catch (err) {
      if (statusOf(err) === 304) return;
      throw this.fail(`stop container ${id}`, err);
    }
  }

  /** Force-removes the container and its anonymous volumes; a container already gone is fine. */
  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) return;
      // Another remove of it is under way (the watch's, when the container just ended): the
      // caller is told it is gone only once it is.
      if (status === 409 && /in progress/i.test(String(err))) return this.#gone(id);
      throw this.fail(`remove container ${id}`, err);
    }
  }

  async #gone(id: string, deadlineMs = 30_000): Promise<void> {
    const until = Date.now() + deadlineMs;
    while ((await this.inspect(id)) !== undefined) {
      if (Date.now() > until) throw new Error(`container ${id} is still being removed after 30 s`);
      await sleep(50);
    }
  }

  async inspect(id: string): Promise<ContainerInfo | undefined> {
    try {
      return fromInspect(await this.docker.getContainer(id).inspect());
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.fail(`inspect container ${id}`, err);
    }
  }

  async listByLabels(labels: Readonly<Record<string, string>>): Promise<ContainerInfo[]> {
    const label = labelFilters(labels);
    if (label.length === 0) {
      throw new Error("listByLabels needs at least one label: it never lists every container");
    }
    try {
      const rows = await this.docker.listContainers({ all: true, filters: { label } });
      return rows.map(fromListing);
    } catch (err) {
      throw this.fail(`list containers labelled ${label.join(", ")}`, err);
    }
  }

  async inspectImage(name: string): Promise<ImageInfo | undefined> {
    try {
      const img = await this.docker.getImage(name).inspect();
      return {
        id: img.Id,
        labels: { ...(img.Config?.Labels ?? {}) },
        created: img.Created,
        env: img.Config?.Env ?? [],
      };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw this.fail(`inspect image ${name}`, err);
    }
  }

  async buildImage(
    context: Readable,
    opts: {
      tag: string;
      labels: Readonly<Record<string, string>>;
      onProgress(p: BuildProgress): void;
    },
  ): Promise<void> {
    const what = `build image ${opts.tag}`;
    const contextFailed = new Promise<never>((_, reject) => {
      context.once("error", (err) =>
        reject(new Error(`reading the build context: ${err.message}`)),
      );
    });
    contextFailed.catch(() => {});
    try {
      const progress = await Promise.race([
        this.docker.buildImage(context, {
          t: opts.tag,
          labels: { ...opts.labels },
          rm: true,
          forcerm: true,
          version: "1",
        }),
        contextFailed,
      ]);
      await Promise.race([followBuild(progress, (p) => opts.onProgress(p)), contextFailed]);
    } catch (err) {
      throw this.fail(what, err);
    }
  }

  async exec(
    id: string,
    cmd: readonly string[],
    opts: { user?: string } = {},
  ): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    try {
      const ex = await this.docker.getContainer(id).exec({
        Cmd: [...cmd],
        AttachStdin: false,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        ...(opts.user !== undefined ? { User: opts.user } : {}),
      });
      const raw = await ex.start({ hijack: true, stdin: false });
      const output = await collectOutput(this.docker.modem, raw, this.execOutputLimit);
      for (let i = 0; ; i++) {
        const info = await ex.inspect();
        if (!info.Running && info.ExitCode !== null) return { exitCode: info.ExitCode, ...output };
        if (i >= 50) throw new Error(`exec ${cmd[0]} still running after its output ended`);
        await sleep(20);
      }
    } catch (err) {
      throw this.fail(`run ${JSON.stringify(cmd[0] ?? "")} in container ${id}`, err);
    }
  }
}
