import { constants } from "node:fs";
import { access, mkdir } from "node:fs/promises";
import path from "node:path";
import { RpcError } from "@wm/protocol";
import { spawnPiped, spawnPty } from "../../host-exec/host-child.ts";
import {
  carriesLabels,
  type SandboxBackend,
  type SandboxHandle,
  type SandboxInfo,
  type SandboxLaunch,
  type SandboxStreams,
} from "../sandbox-backend.ts";
import type { VmLaunch } from "../vm/vm-sandbox.ts";
import {
  guestArgv,
  guestCleanupArgv,
  guestFiles,
  guestSignalArgv,
  removeEnvFile,
  writeEnvFile,
} from "./guest-command.ts";
import { type LimaInstanceSettings, LimaInstances } from "./lima-instance.ts";
import { limaInstanceName, limaMountsOf, PROJECT_LABEL } from "./lima-mounts.ts";
import { infoOf, newShell, type Shell, signalName } from "./lima-shell.ts";
import { Limactl } from "./limactl.ts";

/*
 * Sandboxes as `limactl shell` processes in one Lima VM per repository
 * (`sandbox.lima.driver: limactl`). Contract-tested only: Lima is not installable where wm is
 * developed, so the tests drive a stand-in `limactl` that answers as Lima v2.2.0 does.
 *
 * What Lima enforces here: the VM boundary; each share read-only or writable as asked (9p,
 * `readonly=on` in QEMU); no port forwarding; no ssh-agent/X11 forwarding. What it cannot, and
 * wm therefore refuses or documents:
 * - file mounts and read-only parts of writable shares: refused (lima-mounts.ts);
 * - sandboxes of one repository share the VM and its guest user, who has passwordless sudo:
 *   they are one trust domain, so a launch whose mounts differ from the running instance's is
 *   refused rather than added;
 * - the per-sandbox pids limit, memory and CPU share: not applied inside the VM (the VM's own
 *   `sandbox.lima.cpus`/`memory` bound all of its sandboxes together);
 * - the network: Lima's user-mode network lets the guest reach the host's loopback as
 *   host.lima.internal (192.168.5.2); there is no egress policy;
 * - the guest API endpoint: a Unix socket does not cross a 9p share and this backend reports no
 *   gateway, so the in-sandbox `wm` reaches no daemon until that is wired.
 */

export interface LimaSandboxOptions {
  limactl: Limactl;
  /** Host directory of wm's per-instance files; each instance gets `<runDir>/<instance>`. */
  runDir: string;
  /** The VM image, and the size a launch without `vm` settings gets. */
  vm: LimaInstanceSettings;
  /** The host user limactl runs as: Lima's guest user has this uid. */
  hostUid: number;
}

const DEFAULT_SIZE = { rows: 24, cols: 80 };

/** Lima's instance names (`pkg/identifiers`): letters and digits, single `.`/`_`/`-` between. */
const LIMA_NAME = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;

/** The launch's VM size and provisioning (from `sandbox.lima`) over the backend's defaults. */
function vmSettings(base: LimaInstanceSettings, vm: VmLaunch | undefined): LimaInstanceSettings {
  if (!vm) return base;
  return {
    ...base,
    cpus: vm.cpus,
    memory: `${vm.memoryMiB}MiB`,
    ...(vm.diskBytes !== undefined ? { disk: String(vm.diskBytes) } : {}),
    provision: vm.provision,
    skipDefaultProvision: vm.skipDefaultProvision,
  };
}

/** Sandboxes as `limactl shell` processes; see the top of this file for what it enforces. */
export class LimaSandboxBackend implements SandboxBackend {
  readonly runtime = "vm" as const;
  readonly #opts: LimaSandboxOptions;
  readonly #instances: LimaInstances;
  readonly #shells = new Map<SandboxHandle, Shell>();

  constructor(opts: LimaSandboxOptions) {
    this.#opts = opts;
    this.#instances = new LimaInstances(opts.limactl);
  }

  /** The VM image (`sandbox.image`, a URL or a local path), not the container image asked for. */
  async requireImage(_image: string): Promise<void> {
    const location = this.#opts.vm.image.location;
    if (/^https?:\/\//.test(location)) return;
    const file = location.startsWith("file://") ? new URL(location).pathname : location;
    if (!path.isAbsolute(file)) {
      throw new RpcError(
        "ConfigInvalid",
        `sandbox.image: ${JSON.stringify(location)} is not a VM image for Lima; give an https:// URL or an absolute path to a qcow2 image`,
      );
    }
    await access(file, constants.R_OK).catch(() => {
      throw new RpcError(
        "Unavailable",
        `sandbox.image: the VM image ${file} does not exist or cannot be read; download a cloud image (qcow2) there or give its https:// URL`,
      );
    });
  }

  async imageEnv(_image: string): Promise<readonly string[] | undefined> {
    return undefined;
  }

  /** None: the guest reaches the host's loopback as host.lima.internal, not a bridge address. */
  async guestGateway(): Promise<string | undefined> {
    return undefined;
  }

  async create(launch: SandboxLaunch): Promise<SandboxHandle> {
    const commonDir = launch.labels[PROJECT_LABEL];
    if (!commonDir) {
      throw new RpcError("InvalidParams", `a Lima sandbox needs the ${PROJECT_LABEL} label`);
    }
    if (launch.user.uid !== this.#opts.hostUid) {
      throw new RpcError(
        "Refused",
        `sandbox.lima.driver: limactl runs commands as Lima's guest user (uid ${this.#opts.hostUid}), not as the worktree's owner (uid ${launch.user.uid}); no sandbox was started`,
      );
    }
    if (launch.ociRuntime) {
      throw new RpcError(
        "Refused",
        `sandbox.container.oci_runtime: ${launch.ociRuntime} applies to containers, and a Lima VM has no OCI runtime; remove it or use sandbox.backend: container; no sandbox was started`,
      );
    }
    const instance = launch.vm?.vmName ?? limaInstanceName(commonDir);
    if (!LIMA_NAME.test(instance)) {
      throw new RpcError(
        "InvalidParams",
        `${JSON.stringify(instance)} is not a Lima instance name`,
      );
    }
    const handle = `lima:${instance}:${launch.name}`;
    if (this.#shells.has(handle)) {
      throw new RpcError("Conflict", `a Lima sandbox named ${launch.name} already exists`);
    }
    const runDir = path.join(this.#opts.runDir, instance);
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    const mounts = await limaMountsOf([
      ...launch.mounts,
      { source: runDir, target: runDir, readOnly: true },
    ]);
    await this.#instances.ensure(instance, vmSettings(this.#opts.vm, launch.vm), mounts, () =>
      this.#busy(instance),
    );
    const files = guestFiles(runDir, launch.name);
    await writeEnvFile(files, launch.env, launch.vm?.preflight);
    this.#shells.set(handle, newShell(handle, launch, instance, files));
    return handle;
  }

  #busy(instance: string): boolean {
    return [...this.#shells.values()].some(
      (s) => s.instance === instance && s.exitCode === undefined,
    );
  }

  #shell(handle: SandboxHandle): Shell {
    const s = this.#shells.get(handle);
    if (!s) throw new RpcError("NotFound", `no Lima sandbox ${handle}`);
    return s;
  }

  async attach(
    handle: SandboxHandle,
    _opts: { tty: boolean; stdin: boolean },
  ): Promise<SandboxStreams> {
    const s = this.#shell(handle);
    return {
      stdin: s.out.stdin,
      stdout: s.out.stdout,
      stderr: s.out.stderr,
      close: () => {
        s.out.stdout.unpipe();
        s.out.stderr.unpipe();
      },
    };
  }

  async start(handle: SandboxHandle): Promise<void> {
    const s = this.#shell(handle);
    if (s.child) return;
    const { limactl } = this.#opts;
    const spec = {
      file: await limactl.binary(),
      args: limactl.shellArgs(s.instance, {
        workdir: s.launch.workdir,
        argv: guestArgv(s.files, s.launch.command),
      }),
      cwd: path.dirname(s.files.envFile),
      env: limactl.env(),
    };
    const tty = s.launch.terminal.tty;
    const child = tty ? await spawnPty(spec, DEFAULT_SIZE) : spawnPiped(spec);
    s.child = child;
    child.onOutput((channel, chunk) => (channel === 1 ? s.out.stdout : s.out.stderr).write(chunk));
    const stdin = s.out.stdin;
    if (stdin) {
      stdin.on("data", (c: Buffer) => child.write(c));
      if (!tty) stdin.on("end", () => child.endInput());
    } else if (!tty) {
      child.endInput();
    }
    child.ended.then(
      (end) => this.#finish(s, end.code),
      () => this.#finish(s, 127),
    );
  }

  #finish(s: Shell, code: number): void {
    s.exitCode = code;
    s.out.stdout.end();
    s.out.stderr.end();
    s.settle(code);
  }

  wait(handle: SandboxHandle): Promise<number> {
    return this.#shell(handle).exited;
  }

  /** Delivered in the guest, to the command's recorded pid (ssh carries no signals). */
  async signal(handle: SandboxHandle, signal: string): Promise<void> {
    const s = this.#shells.get(handle);
    const sig = signalName(signal);
    if (!s?.child || s.exitCode !== undefined) return;
    try {
      await this.#opts.limactl.run(
        this.#opts.limactl.shellArgs(s.instance, {
          workdir: "/",
          argv: guestSignalArgv(s.files, sig),
        }),
      );
    } catch (err) {
      if (s.exitCode === undefined) throw err;
    }
  }

  async resize(handle: SandboxHandle, size: { rows: number; cols: number }): Promise<void> {
    this.#shells.get(handle)?.child?.resize(size);
  }

  async stop(handle: SandboxHandle, timeoutSeconds: number): Promise<void> {
    const s = this.#shells.get(handle);
    if (!s?.child || s.exitCode !== undefined) return;
    await this.signal(handle, "SIGTERM").catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), Math.max(0, timeoutSeconds) * 1000);
    });
    const first = await Promise.race([s.exited, deadline]);
    clearTimeout(timer);
    if (first === "late") {
      await this.signal(handle, "SIGKILL").catch(() => undefined);
      s.child.signal("SIGKILL");
      await s.exited;
    }
  }

  async inspect(handle: SandboxHandle): Promise<SandboxInfo | undefined> {
    const s = this.#shells.get(handle);
    return s ? infoOf(s) : undefined;
  }

  /** The live `limactl shell` processes this backend started that carry all of `labels`. */
  async listOwned(labels: Readonly<Record<string, string>>): Promise<SandboxInfo[]> {
    return [...this.#shells.values()]
      .filter((s) => s.child && s.exitCode === undefined)
      .filter((s) => carriesLabels(s.launch.labels, labels))
      .map(infoOf);
  }

  async remove(handle: SandboxHandle): Promise<void> {
    const s = this.#shells.get(handle);
    if (!s) return;
    if (s.child && s.exitCode === undefined) await this.stop(handle, 0);
    this.#shells.delete(handle);
    await removeEnvFile(s.files);
    if (s.child) {
      const { limactl } = this.#opts;
      await limactl
        .run(limactl.shellArgs(s.instance, { workdir: "/", argv: guestCleanupArgv(s.files) }))
        .catch(() => undefined);
    }
  }
}

/** What the daemon gives to make the backend (it decides LIMA_HOME, the run dir and the VM). */
export interface LimaBackendOptions {
  /** The limactl binary; found on PATH when not given. */
  limactlPath?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  runDir: string;
  vm: LimaInstanceSettings;
  hostUid: number;
}

/** `sandbox.lima.driver: limactl`: the backend over the user's Lima. */
export function limaSandboxBackend(opts: LimaBackendOptions): LimaSandboxBackend {
  return new LimaSandboxBackend({
    limactl: new Limactl({ path: opts.limactlPath, env: opts.env }),
    runDir: opts.runDir,
    vm: opts.vm,
    hostUid: opts.hostUid,
  });
}
