import { ContainerSandboxBackend } from "./docker/container-sandbox.ts";
import type { SandboxBackend, SandboxRuntime } from "./sandbox-backend.ts";
import type { ContainerEngine, EngineVersion, RuntimeName } from "./types.ts";
import type { VmSandboxBackend } from "./vm/vm-sandbox.ts";

export interface BackendsOptions {
  /** Connects to a runtime's engine; throws with the reason when it cannot. */
  connect(runtime: RuntimeName): ContainerEngine;
  /** Asks the engine API on a socket for its version (`wm doctor`, before any engine is chosen). */
  probeEngineVersion(socketPath: string, timeoutMs: number): Promise<EngineVersion>;
  /** Makes the VM backend (on first use: it owns the daemon's VMs). */
  vm?: (() => VmSandboxBackend) | undefined;
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
  readonly #makeVm: (() => VmSandboxBackend) | undefined;
  #vm: VmSandboxBackend | undefined;

  constructor(opts: BackendsOptions) {
    this.#connect = opts.connect;
    this.probeEngineVersion = opts.probeEngineVersion;
    this.#makeVm = opts.vm;
  }

  /** The VM backend; throws when this daemon was built without one. */
  vm(): VmSandboxBackend {
    if (!this.#vm) {
      if (!this.#makeVm) throw new Error("this daemon has no VM backend");
      this.#vm = this.#makeVm();
    }
    return this.#vm;
  }

  /** The VM backend if it has been used (its VMs are then the daemon's to close). */
  vmIfUsed(): VmSandboxBackend | undefined {
    return this.#vm;
  }

  /** Throws with the reason when the runtime's socket is unusable (e.g. a tcp:// DOCKER_HOST). */
  engine(runtime: RuntimeName): ContainerEngine {
    const existing = this.#engines.get(runtime);
    if (existing) return existing;
    const created = this.#connect(runtime);
    this.#engines.set(runtime, created);
    return created;
  }

  sandbox(runtime: SandboxRuntime): SandboxBackend {
    if (runtime === "vm") return this.vm();
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
