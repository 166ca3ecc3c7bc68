import { ContainerSandboxBackend } from "./docker/container-sandbox.ts";
import type { SandboxBackend } from "./sandbox-backend.ts";
import type { ContainerEngine, EngineVersion, RuntimeName } from "./types.ts";

export interface BackendsOptions {
  /** Connects to a runtime's engine; throws with the reason when it cannot. */
  connect(runtime: RuntimeName): ContainerEngine;
  /** Asks the engine API on a socket for its version (`wm doctor`, before any engine is chosen). */
  probeEngineVersion(socketPath: string, timeoutMs: number): Promise<EngineVersion>;
}

/**
 * The daemon's backends, one per runtime, each connected on first use and kept: the container
 * engine (for image and doctor code) and the sandbox backend over it (for the sandbox manager).
 */
export class Backends {
  readonly #connect: (runtime: RuntimeName) => ContainerEngine;
  readonly probeEngineVersion: BackendsOptions["probeEngineVersion"];
  readonly #engines = new Map<RuntimeName, ContainerEngine>();
  readonly #sandboxes = new Map<RuntimeName, SandboxBackend>();

  constructor(opts: BackendsOptions) {
    this.#connect = opts.connect;
    this.probeEngineVersion = opts.probeEngineVersion;
  }

  /** Throws with the reason when the runtime's socket is unusable (e.g. a tcp:// DOCKER_HOST). */
  engine(runtime: RuntimeName): ContainerEngine {
    const existing = this.#engines.get(runtime);
    if (existing) return existing;
    const created = this.#connect(runtime);
    this.#engines.set(runtime, created);
    return created;
  }

  sandbox(runtime: RuntimeName): SandboxBackend {
    const existing = this.#sandboxes.get(runtime);
    if (existing) return existing;
    const engine = this.engine(runtime);
    const created = new ContainerSandboxBackend({
      containers: engine,
      images: engine,
      network: engine,
    });
    this.#sandboxes.set(runtime, created);
    return created;
  }

  /** The runtimes connected to so far. */
  connected(): RuntimeName[] {
    return [...this.#engines.keys()];
  }
}
