import { promises as fs } from "node:fs";
import net from "node:net";
import path from "node:path";
import { PassThrough, type Writable } from "node:stream";
import { RpcError } from "@wm/protocol";
import { GUEST_MOUNT } from "../../sandbox/guest-endpoint.ts";
import { SHIM_MOUNT } from "../../sandbox/shim-runtime.ts";
import type { GuestExec } from "../qemu/guest-link-process.ts";
import {
  carriesLabels,
  type SandboxBackend,
  type SandboxHandle,
  type SandboxInfo,
  type SandboxLaunch,
  type SandboxStreams,
} from "../sandbox-backend.ts";
import type { MountSpec } from "../types.ts";
import type { RunningVm, VmPool } from "./vm-pool.ts";
import {
  EXPORTS_DIR,
  type ExportRoots,
  exportFor,
  sessionScript,
  type VmExport,
  within,
} from "./vm-shares.ts";

/** What a launch must add for the VM backend (launch-plan.ts fills it from `sandbox.lima`). */
export interface VmLaunch {
  /** The VM's name (`wm-<project>-<hash>`, or `wm-shared`). */
  vmName: string;
  scope: string;
  /** Project directories exported whole (see vm-shares.ts). */
  roots: ExportRoots["roots"];
  cpus: number;
  memoryMiB: number;
  diskBytes?: number | undefined;
  provision?: string | undefined;
  skipDefaultProvision?: boolean | undefined;
  /** Shell lines run as the user before the command (e.g. a toolchain check). */
  preflight?: string | undefined;
}

/** Guest directory of every sandbox endpoint; each sandbox sees only its own, at /run/wm. */
const ENDPOINTS_DIR = "/run/wm-ep";

interface Session {
  handle: SandboxHandle;
  name: string;
  image: string;
  labels: Record<string, string>;
  vm: RunningVm;
  script: string;
  tty: boolean;
  listener: GuestExec;
  guestEndpoint: string;
  proc: GuestExec | undefined;
  streams: { stdin: PassThrough; stdout: PassThrough; stderr: PassThrough };
  exitCode: number | undefined;
  done: Promise<number>;
  finish: (code: number) => void;
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Sandboxes as sessions in a persistent VM (QEMU, see vm-pool.ts): `create` makes sure the
 * project's VM runs and prepares the sandbox's endpoint and file view in it; `start` runs the
 * command through the guest agent, in a mount namespace of its own, as the worktree's owner.
 * The VM outlives its sandboxes; a sandbox does not outlive the daemon's link to the VM.
 */
export class VmSandboxBackend implements SandboxBackend {
  readonly runtime = "vm" as const;
  readonly #pool: VmPool;
  readonly #sessions = new Map<SandboxHandle, Session>();

  constructor(pool: VmPool) {
    this.#pool = pool;
  }

  get pool(): VmPool {
    return this.#pool;
  }

  async requireImage(): Promise<void> {
    try {
      await this.#pool.base();
    } catch (err) {
      throw new RpcError("Unavailable", `cannot make the VM disk: ${(err as Error).message}`);
    }
  }

  async imageEnv(): Promise<readonly string[]> {
    return [`PATH=${SHIM_MOUNT}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`];
  }

  async guestGateway(): Promise<string | undefined> {
    return undefined;
  }

  async create(launch: SandboxLaunch): Promise<SandboxHandle> {
    const vmLaunch = launch.vm;
    if (!vmLaunch) throw new Error("a VM sandbox needs launch.vm");
    const endpointMount = launch.mounts.find((m) => m.target === GUEST_MOUNT);
    if (!endpointMount) throw new Error("a VM sandbox needs its endpoint mount");
    const vmDir = path.join(this.#poolDir(), vmLaunch.vmName);
    const roots: ExportRoots = { roots: vmLaunch.roots, filesDir: path.join(vmDir, "files") };
    const guestEndpoint = `${ENDPOINTS_DIR}/${launch.name}`;

    const exports = new Map<string, VmExport>();
    const binds: { source: string; target: string; readOnly: boolean; isFile: boolean }[] = [];
    for (const m of launch.mounts) {
      // The VM has its own /opt/wm (the agent runtime); the endpoint lives in the guest.
      if (m === endpointMount || within(m.target, SHIM_MOUNT)) continue;
      const isFile = (await fs.stat(m.source)).isFile();
      if (within(m.source, endpointMount.source)) {
        binds.push({
          source: path.posix.join(guestEndpoint, path.relative(endpointMount.source, m.source)),
          target: m.target,
          readOnly: true,
          isFile,
        });
        continue;
      }
      const { export: e, rel } = exportFor(m, isFile, roots);
      exports.set(e.tag, e);
      if (e.tag === "files") await linkFile(m.source, path.join(roots.filesDir, rel));
      await hostMountpoint(m, isFile, vmLaunch.roots);
      binds.push({
        source: path.posix.join(EXPORTS_DIR, e.tag, rel),
        target: m.target,
        readOnly: m.readOnly,
        isFile,
      });
    }
    if (exports.has("files")) await fs.mkdir(roots.filesDir, { recursive: true, mode: 0o700 });

    const handle = launch.name;
    const vm = await this.#pool.acquire(
      {
        name: vmLaunch.vmName,
        scope: vmLaunch.scope,
        exports: [...exports.values()],
        cpus: vmLaunch.cpus,
        memoryMiB: vmLaunch.memoryMiB,
        diskBytes: vmLaunch.diskBytes,
        provision: vmLaunch.provision,
        provisionUser: launch.user,
        skipDefaultProvision: vmLaunch.skipDefaultProvision,
      },
      handle,
    );
    try {
      await this.#guestEndpoint(vm, guestEndpoint, endpointMount.source);
      const listener = vm.link.listen(`${guestEndpoint}/guest.sock`, launch.user, (conn) =>
        joinEndpoint(conn, path.join(endpointMount.source, "guest.sock")),
      );
      await listener.started;
      const script = sessionScript({
        binds,
        endpointDir: guestEndpoint,
        endpointTarget: GUEST_MOUNT,
        hide: [...vm.state.exports.map((e) => `${EXPORTS_DIR}/${e.tag}`)],
        cover: [EXPORTS_DIR, ENDPOINTS_DIR],
        user: launch.user,
        home: launch.env.HOME ?? "/home/agent",
        workdir: launch.workdir,
        env: { PATH: `${SHIM_MOUNT}/bin:/usr/local/bin:/usr/bin:/bin`, ...launch.env },
        preflight: vmLaunch.preflight,
        command: launch.command,
      });
      let finish!: (code: number) => void;
      const done = new Promise<number>((r) => {
        finish = r;
      });
      this.#sessions.set(handle, {
        handle,
        name: launch.name,
        image: launch.image,
        labels: { ...launch.labels },
        vm,
        script,
        tty: launch.terminal.tty,
        listener,
        guestEndpoint,
        proc: undefined,
        streams: { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() },
        exitCode: undefined,
        done,
        finish,
      });
      return handle;
    } catch (err) {
      this.#pool.release(vmLaunch.vmName, handle);
      throw err;
    }
  }

  async attach(
    handle: SandboxHandle,
    opts: { tty: boolean; stdin: boolean },
  ): Promise<SandboxStreams> {
    const s = this.#session(handle);
    return {
      stdin: opts.stdin ? (s.streams.stdin as Writable) : undefined,
      stdout: s.streams.stdout,
      stderr: s.streams.stderr,
      close: () => {
        s.streams.stdout.end();
        s.streams.stderr.end();
      },
    };
  }

  async start(handle: SandboxHandle): Promise<void> {
    const s = this.#session(handle);
    const proc = s.vm.link.exec(
      // Its own network namespace too: only loopback, so nothing in the sandbox can reach the
      // agent link's guest port (10.0.2.100) and write into the daemon's stream.
      ["unshare", "--mount", "--net", "--propagation", "private", "--", "/bin/sh", "-c", s.script],
      { cwd: "/", tty: s.tty ? { rows: 24, cols: 80 } : null },
    );
    s.proc = proc;
    s.streams.stdin.pipe(proc.stdin);
    proc.stdout.pipe(s.streams.stdout);
    proc.stderr.pipe(s.streams.stderr);
    proc.exited.then(
      (code) => this.#ended(s, code),
      () => this.#ended(s, 129), // the link (the VM) went away: as a hang-up
    );
    await proc.started;
  }

  wait(handle: SandboxHandle): Promise<number> {
    const s = this.#sessions.get(handle);
    return s ? s.done : Promise.resolve(137);
  }

  async signal(handle: SandboxHandle, signal: string): Promise<void> {
    this.#sessions.get(handle)?.proc?.signal(signal as NodeJS.Signals);
  }

  async resize(handle: SandboxHandle, size: { rows: number; cols: number }): Promise<void> {
    this.#sessions.get(handle)?.proc?.resize(size.rows, size.cols);
  }

  async stop(handle: SandboxHandle, timeoutSeconds: number): Promise<void> {
    const s = this.#sessions.get(handle);
    if (!s?.proc || s.exitCode !== undefined) return;
    s.proc.signal("SIGTERM");
    const timer = setTimeout(() => s.proc?.signal("SIGKILL"), timeoutSeconds * 1000);
    await s.done;
    clearTimeout(timer);
  }

  async inspect(handle: SandboxHandle): Promise<SandboxInfo | undefined> {
    const s = this.#sessions.get(handle);
    return s ? infoOf(s) : undefined;
  }

  async listOwned(labels: Readonly<Record<string, string>>): Promise<SandboxInfo[]> {
    return [...this.#sessions.values()].filter((s) => carriesLabels(s.labels, labels)).map(infoOf);
  }

  async remove(handle: SandboxHandle): Promise<void> {
    const s = this.#sessions.get(handle);
    if (!s) return;
    this.#sessions.delete(handle);
    if (s.exitCode === undefined) s.proc?.signal("SIGKILL");
    s.listener.signal("SIGTERM");
    if (s.vm.link.hello) {
      const rm = s.vm.link.exec(["rm", "-rf", "--", s.guestEndpoint]);
      rm.stdin.end();
      await rm.exited.catch(() => undefined);
    }
    this.#pool.release(s.vm.name, handle);
  }

  #ended(s: Session, code: number): void {
    if (s.exitCode !== undefined) return;
    s.exitCode = code;
    s.finish(code);
  }

  #session(handle: SandboxHandle): Session {
    const s = this.#sessions.get(handle);
    if (!s) throw new Error(`no VM sandbox ${handle}`);
    return s;
  }

  #poolDir(): string {
    return this.#pool.dir;
  }

  /** The sandbox's endpoint directory in the guest: endpoint.json and the files beside it. */
  async #guestEndpoint(vm: RunningVm, guestDir: string, hostDir: string): Promise<void> {
    const files: { rel: string; mode: number; data: Buffer }[] = [];
    const walk = async (rel: string): Promise<void> => {
      for (const e of await fs.readdir(path.join(hostDir, rel), { withFileTypes: true })) {
        const r = path.join(rel, e.name);
        if (e.isDirectory()) await walk(r);
        else if (e.isFile() && r !== "token") {
          const st = await fs.stat(path.join(hostDir, r));
          files.push({
            rel: r,
            mode: st.mode & 0o755,
            data: await fs.readFile(path.join(hostDir, r)),
          });
        }
      }
    };
    await walk("");
    const endpointJson = `${JSON.stringify({ transport: "socket", socket: "guest.sock" })}\n`;
    const all = [
      ...files.filter((f) => f.rel !== "endpoint.json"),
      { rel: "endpoint.json", mode: 0o644, data: Buffer.from(endpointJson) },
    ];
    // One shell in the guest writes them all: each file's bytes in base64 on a line of its own.
    const script = [
      "set -eu",
      `rm -rf ${q(guestDir)}`,
      `mkdir -p -m 0755 ${ENDPOINTS_DIR} ${q(guestDir)}`,
      ...all.map(
        (f) =>
          `mkdir -p "$(dirname ${q(`${guestDir}/${f.rel}`)})" && read -r l && printf '%s' "$l" | base64 -d > ${q(`${guestDir}/${f.rel}`)} && chmod ${f.mode.toString(8)} ${q(`${guestDir}/${f.rel}`)}`,
      ),
    ].join("\n");
    const p = vm.link.exec(["/bin/sh", "-c", script]);
    p.stdin.end(all.map((f) => `${f.data.toString("base64")}\n`).join(""));
    let err = "";
    p.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    p.stdout.resume();
    const code = await p.exited;
    if (code !== 0)
      throw new Error(`could not make the sandbox's endpoint in the VM: ${err.trim()}`);
  }
}

function infoOf(s: Session): SandboxInfo {
  return {
    handle: s.handle,
    name: s.name,
    image: s.image,
    running: s.exitCode === undefined,
    exitCode: s.exitCode,
    labels: s.labels,
    address: undefined,
  };
}

/** A connection to the sandbox's endpoint in the guest, joined to its endpoint on the host. */
function joinEndpoint(conn: GuestExec, socketPath: string): void {
  const host = net.connect(socketPath);
  host.on("error", () => {
    host.destroy();
    conn.signal("SIGTERM");
  });
  conn.stdout.pipe(host);
  host.pipe(conn.stdin);
  conn.exited.then(
    () => host.end(),
    () => host.destroy(),
  );
}

/** A file mount outside the exported directories comes from a hard link in the files export. */
async function linkFile(source: string, link: string): Promise<void> {
  await fs.mkdir(path.dirname(link), { recursive: true, mode: 0o700 });
  const [a, b] = await Promise.all([fs.stat(source), fs.stat(link).catch(() => undefined)]);
  if (b && a.ino === b.ino && a.dev === b.dev) return;
  await fs.rm(link, { force: true });
  try {
    await fs.link(source, link);
  } catch (err) {
    throw new RpcError(
      "Refused",
      `cannot share ${source} with the VM (${(err as NodeJS.ErrnoException).code}): a single file is shared as a hard link in ${path.dirname(link)}, which must be on the same file system`,
    );
  }
}

/**
 * A mount target that lies in an exported directory must exist there (the guest sees the
 * export read-only where it is, so it cannot make it); the engine does the same for a container.
 */
async function hostMountpoint(
  m: MountSpec,
  isFile: boolean,
  roots: ExportRoots["roots"],
): Promise<void> {
  if (isFile || !roots.some((r) => within(m.target, r.hostPath))) return;
  await fs.mkdir(m.target, { recursive: true }).catch(() => undefined);
}
