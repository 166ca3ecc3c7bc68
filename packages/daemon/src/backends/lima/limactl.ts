import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { RpcError } from "@wm/protocol";
import type { LimaMount } from "./lima-config.ts";

/*
 * The `limactl` command line, as Lima v2.2.0 defines it (lima-vm/lima `cmd/limactl/`:
 * list.go, start.go for create/start, stop.go, delete.go, shell.go). `--tty=false` is Lima's
 * own flag for automation: no editor, no questions. `list --json` prints one JSON object per
 * instance per line (`pkg/limatype/lima_instance.go`), and the instance's `config` there is its
 * lima.yaml filled with `$LIMA_HOME/_config/default.yaml` and `override.yaml`: what Lima will
 * actually mount.
 */

/** Lima's instance states (`pkg/limatype/lima_instance.go`). */
export type LimaStatus = "Running" | "Stopped" | "Broken" | "Installing" | "Uninitialized" | "";

/** One instance as `limactl list --json` reports it. */
export interface LimaInstance {
  name: string;
  status: LimaStatus;
  dir: string;
  cpus: number | undefined;
  /** Bytes. */
  memory: number | undefined;
  /** Bytes. */
  disk: number | undefined;
  /** The mounts Lima will make (its filled config), in wm's terms. */
  mounts: LimaMount[];
  mountType: string | undefined;
}

export interface LimactlOptions {
  /** The `limactl` binary; looked up on the PATH of `env` when not given. */
  path?: string | undefined;
  /** limactl's environment (its PATH finds ssh and qemu; LIMA_HOME picks the instance store). */
  env: Readonly<Record<string, string | undefined>>;
}

/** How much of limactl's stderr an error carries. */
const STDERR_TAIL_LINES = 20;

/** The error for a machine without limactl, saying how to get it or how to do without. */
export function limactlMissing(detail: string): RpcError {
  return new RpcError(
    "Unavailable",
    `sandbox.lima.driver: limactl needs Lima's \`limactl\` (${detail}); install Lima (https://lima-vm.io/docs/installation/, e.g. \`brew install lima\`) or set sandbox.lima.driver: qemu to let wm run QEMU itself`,
    { key: "sandbox.lima.driver", driver: "limactl" },
  );
}

function tail(text: string): string {
  return text.trimEnd().split("\n").slice(-STDERR_TAIL_LINES).join("\n");
}

function stringOr(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function numberOr(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function mountsOf(config: Record<string, unknown> | undefined): LimaMount[] {
  const mounts = Array.isArray(config?.mounts) ? config.mounts : [];
  return mounts.flatMap((m: unknown) => {
    if (typeof m !== "object" || m === null) return [];
    const r = m as Record<string, unknown>;
    const location = stringOr(r.location);
    if (!location) return [];
    return [
      {
        hostPath: location,
        guestPath: stringOr(r.mountPoint) ?? location,
        writable: r.writable === true,
      },
    ];
  });
}

/** One line of `limactl list --json`. */
export function parseInstance(line: string): LimaInstance {
  const raw: unknown = JSON.parse(line);
  if (
    typeof raw !== "object" ||
    raw === null ||
    typeof (raw as { name?: unknown }).name !== "string"
  ) {
    throw new Error(`not a Lima instance: ${line.slice(0, 200)}`);
  }
  const r = raw as Record<string, unknown>;
  const config =
    typeof r.config === "object" && r.config !== null
      ? (r.config as Record<string, unknown>)
      : undefined;
  return {
    name: r.name as string,
    status: (stringOr(r.status) ?? "") as LimaStatus,
    dir: stringOr(r.dir) ?? "",
    cpus: numberOr(r.cpus),
    memory: numberOr(r.memory),
    disk: numberOr(r.disk),
    mounts: mountsOf(config),
    mountType: stringOr(config?.mountType),
  };
}

/** Finds `name` on a PATH the way a shell does: the first executable file. */
async function lookPath(name: string, envPath: string | undefined): Promise<string | undefined> {
  for (const dir of (envPath ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Lima's `limactl`, run as a child process per call. */
export class Limactl {
  readonly #opts: LimactlOptions;
  #resolved: Promise<string> | undefined;

  constructor(opts: LimactlOptions) {
    this.#opts = opts;
  }

  /** The binary's path; throws the driver's "install Lima" error when there is none. */
  binary(): Promise<string> {
    this.#resolved ??= this.#resolve();
    const p = this.#resolved;
    // A missing binary may be installed later: look again next time.
    p.catch(() => {
      this.#resolved = undefined;
    });
    return p;
  }

  async #resolve(): Promise<string> {
    const given = this.#opts.path;
    if (given) {
      try {
        await access(given, constants.X_OK);
        return given;
      } catch {
        throw limactlMissing(`${given} is not an executable file`);
      }
    }
    const found = await lookPath("limactl", this.#opts.env.PATH);
    if (!found) throw limactlMissing("no limactl on PATH");
    return found;
  }

  /** The environment limactl and the shells it starts run with. */
  env(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.#opts.env)) if (v !== undefined) out[k] = v;
    return out;
  }

  /** Runs limactl to the end; a non-zero exit throws with the tail of its stderr. */
  async run(args: readonly string[]): Promise<string> {
    const file = await this.binary();
    const { code, stdout, stderr } = await new Promise<{
      code: number;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const child = spawn(file, [...args], {
        env: this.env(),
        stdio: ["ignore", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      child.once("error", (e: NodeJS.ErrnoException) =>
        reject(e.code === "ENOENT" ? limactlMissing(`${file} could not be run`) : e),
      );
      child.once("close", (c, signal) =>
        resolve({
          code: c ?? (signal ? 128 : 1),
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        }),
      );
    });
    if (code !== 0) {
      const shown = tail(stderr);
      throw new RpcError(
        "Unavailable",
        `limactl ${args[0] ?? ""} failed (exit ${code})${shown ? `:\n${shown}` : ""}`,
        { argv: ["limactl", ...args], exitCode: code, stderr: shown },
      );
    }
    return stdout;
  }

  /** Every instance in the Lima home (`limactl list --json`: one object per line). */
  async list(): Promise<LimaInstance[]> {
    const out = await this.run(["list", "--json"]);
    return out
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.startsWith("{"))
      .map(parseInstance);
  }

  /** One instance by name, or undefined. */
  async find(name: string): Promise<LimaInstance | undefined> {
    return (await this.list()).find((i) => i.name === name);
  }

  /** `limactl create --name NAME --tty=false FILE`, from a private copy of `yamlText`. */
  async create(name: string, yamlText: string): Promise<void> {
    const dir = await mkdtemp(path.join(tmpdir(), "wm-lima-"));
    try {
      const file = path.join(dir, `${name}.yaml`);
      await writeFile(file, yamlText, { mode: 0o600, flag: "wx" });
      await this.run(["create", "--name", name, "--tty=false", file]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async start(name: string): Promise<void> {
    await this.run(["start", "--tty=false", name]);
  }

  async stop(name: string): Promise<void> {
    await this.run(["stop", name]);
  }

  /** `limactl delete --force NAME` (stops it first; an instance already gone is fine). */
  async delete(name: string): Promise<void> {
    await this.run(["delete", "--force", name]);
  }

  /**
   * The arguments (after the binary) that run `argv` in the guest:
   * `limactl shell --tty=false --workdir W NAME -- argv…`. Lima runs it through the guest
   * user's login shell (`cd W || exit 1; exec $SHELL -l -c '…'`), quoting each argument.
   * `--tty=false` only stops Lima from asking, on the agent's terminal, whether to start a
   * stopped instance (it fails instead); whether ssh gets a terminal (`-t`) follows stdout.
   */
  shellArgs(name: string, opts: { workdir: string; argv: readonly string[] }): string[] {
    return ["shell", "--tty=false", "--workdir", opts.workdir, name, "--", ...opts.argv];
  }
}
