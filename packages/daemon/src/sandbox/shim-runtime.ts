import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { MountSpec } from "../backends/types.ts";

const run = promisify(execFile);

/** Where the shim appears inside every sandbox. */
export const SHIM_MOUNT = "/opt/wm";
/** The shim bundle's name in dist/ and in the runtime: CommonJS whatever package.json is near. */
const SHIM_FILE = "wm-shim.cjs";
/**
 * Node settings of the caller's environment that would change or slow the shim's start (an
 * agent's `--require` hook, a CA bundle parsed at every start); the shim needs none of them.
 */
const NODE_ENV_DROPPED = ["NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "NODE_V8_COVERAGE"];
/** Bumped when the runtime directory's files change shape: a new layout gets a new directory. */
const RUNTIME_LAYOUT = 2;

export interface ShimRuntime {
  dir: string;
  mounts: MountSpec[];
}

export class ShimUnavailableError extends Error {}

/** `dist/wm-shim.cjs`, beside the daemon bundle or found upwards from the source tree. */
export function findShimBundle(env: Readonly<Record<string, string | undefined>>): string {
  if (env.WM_SHIM_BUNDLE) return env.WM_SHIM_BUNDLE;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    for (const candidate of [path.join(dir, SHIM_FILE), path.join(dir, "dist", SHIM_FILE)]) {
      if (existsSync(candidate)) return candidate;
    }
    dir = path.dirname(dir);
  }
  throw new ShimUnavailableError(`dist/${SHIM_FILE} not found; run \`pnpm build\``);
}

/** The shared libraries and the dynamic loader the host's node needs, from `ldd`. */
export async function nodeLibraries(nodePath: string): Promise<{ loader: string; libs: string[] }> {
  const { stdout } = await run("ldd", [nodePath]);
  let loader: string | undefined;
  const libs: string[] = [];
  for (const line of stdout.split("\n")) {
    const linked = /=>\s+(\/\S+)/.exec(line);
    if (linked?.[1]) libs.push(linked[1]);
    else {
      const bare = /^\s*(\/\S+ld-linux\S*)/.exec(line);
      if (bare?.[1]) loader = bare[1];
    }
  }
  if (!loader)
    throw new ShimUnavailableError(`cannot find the dynamic loader of ${nodePath} in ldd's output`);
  return { loader, libs };
}

interface ShimRuntimeOptions {
  stateDir: string;
  shimBundle: string;
  nodePath?: string;
  /** The host's `ip` (iproute2); default: found in /usr/sbin, /sbin, /usr/bin, /bin. */
  ipPath?: string | null;
}

const IP_DIRS = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/** The host's `ip`, which a sandbox's network holder runs (`bin/ip`); undefined when missing. */
export function findIp(): string | undefined {
  return IP_DIRS.map((d) => path.join(d, "ip")).find((p) => existsSync(p));
}

/**
 * A read-only directory that runs the shim in any Linux image of the host's architecture,
 * without Node.js or even the same libc in the image: the host's node binary, its libraries and
 * loader, and `bin/wm`, which starts node through that loader. Built once per shim/node pair;
 * concurrent sandbox starts in one daemon wait for the same build (single flight).
 */
export class ShimRuntimes {
  readonly #building = new Map<string, Promise<void>>();

  async prepare(opts: ShimRuntimeOptions): Promise<ShimRuntime> {
    if (process.platform !== "linux") {
      throw new ShimUnavailableError(
        "the sandbox shim runtime is built from the host's node; only Linux hosts are supported",
      );
    }
    const nodePath = await fs.realpath(opts.nodePath ?? process.execPath);
    const shim = await fs.readFile(opts.shimBundle);
    const nodeStat = await fs.stat(nodePath);
    const found = opts.ipPath === undefined ? findIp() : opts.ipPath;
    const ipPath = found ? await fs.realpath(found) : undefined;
    const ipStat = ipPath ? await fs.stat(ipPath) : undefined;
    const key = createHash("sha256")
      .update(`layout ${RUNTIME_LAYOUT}\n`)
      .update(shim)
      .update(`${nodePath}:${nodeStat.size}:${nodeStat.mtimeMs}`)
      .update(ipPath && ipStat ? `${ipPath}:${ipStat.size}:${ipStat.mtimeMs}` : "no ip")
      .digest("hex")
      .slice(0, 16);
    const dir = path.join(opts.stateDir, "shim", key);
    const mounts: MountSpec[] = [
      { source: dir, target: SHIM_MOUNT, readOnly: true },
      { source: nodePath, target: `${SHIM_MOUNT}/node`, readOnly: true },
    ];
    if (existsSync(path.join(dir, "bin", "wm"))) return { dir, mounts };
    let building = this.#building.get(dir);
    if (!building) {
      building = buildRuntime(dir, nodePath, shim, ipPath).finally(() =>
        this.#building.delete(dir),
      );
      this.#building.set(dir, building);
    }
    await building;
    return { dir, mounts };
  }
}

/**
 * Builds the runtime in a temporary directory of its own and renames it into place. The host's
 * `ip`, when there is one, comes along the same way (`bin/ip`): a sandbox's network holder
 * runs it to make the cloud metadata addresses unreachable, whatever the image holds.
 */
async function buildRuntime(
  dir: string,
  nodePath: string,
  shim: Buffer,
  ipPath: string | undefined,
): Promise<void> {
  const tmp = `${dir}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await fs.mkdir(path.join(tmp, "bin"), { recursive: true, mode: 0o755 });
  await fs.mkdir(path.join(tmp, "lib"), { mode: 0o755 });
  const { loader, libs } = await nodeLibraries(nodePath);
  const ipLibs = ipPath ? (await nodeLibraries(ipPath)).libs : [];
  for (const lib of new Set([loader, ...libs, ...ipLibs])) {
    await fs.copyFile(await fs.realpath(lib), path.join(tmp, "lib", path.basename(lib)));
    await fs.chmod(path.join(tmp, "lib", path.basename(lib)), 0o755);
  }
  if (ipPath) {
    await fs.copyFile(ipPath, path.join(tmp, "ip"));
    await fs.chmod(path.join(tmp, "ip"), 0o755);
    await fs.writeFile(
      path.join(tmp, "bin", "ip"),
      `#!/bin/sh\nexec ${SHIM_MOUNT}/lib/${path.basename(loader)} --library-path ${SHIM_MOUNT}/lib ${SHIM_MOUNT}/ip "$@"\n`,
      { mode: 0o755 },
    );
  }
  await fs.writeFile(path.join(tmp, SHIM_FILE), shim, { mode: 0o644 });
  await fs.writeFile(path.join(tmp, "node"), "", { mode: 0o755 });
  const wrapper = `#!/bin/sh
unset ${NODE_ENV_DROPPED.join(" ")}
exec ${SHIM_MOUNT}/lib/${path.basename(loader)} --library-path ${SHIM_MOUNT}/lib ${SHIM_MOUNT}/node ${SHIM_MOUNT}/${SHIM_FILE} "$@"
`;
  await fs.writeFile(path.join(tmp, "bin", "wm"), wrapper, { mode: 0o755 });
  await fs.chmod(tmp, 0o755);
  await fs.mkdir(path.dirname(dir), { recursive: true, mode: 0o755 });
  await fs.chmod(path.dirname(dir), 0o755);
  try {
    await fs.rename(tmp, dir);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    // Another daemon (or an earlier build) put it in place first.
    if (!existsSync(path.join(dir, "bin", "wm"))) throw err;
  }
}
