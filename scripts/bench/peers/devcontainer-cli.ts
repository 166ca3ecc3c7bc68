// The Dev Containers CLI as a peer: installed at run time into a cache of the bench's own (never
// a dependency of this repository), driven against a workspace that names a local image.
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCommand } from "../../../packages/testing/src/index.ts";

export const DEVCONTAINER_CLI = "@devcontainers/cli";
/** Pinned so runs compare like with like; raise it deliberately. */
export const DEVCONTAINER_CLI_VERSION = "0.89.0";

const tail = (text: string) => text.trim().split("\n").slice(-8).join("\n");

/** `docker image inspect`, so no command here ever makes the engine look for an image elsewhere. */
export async function requireLocalImage(image: string, hint: string): Promise<void> {
  const res = await runCommand("docker", ["image", "inspect", "--format", "{{.Id}}", image]);
  if (res.code !== 0)
    throw new Error(
      `peers: image ${image} is not in the local Docker engine (docker image inspect: ${tail(res.stderr)}); ${hint}. The bench never pulls an image.`,
    );
}

/** Where the peers are installed: `$XDG_CACHE_HOME/wm-bench/peers`, else `~/.cache/wm-bench/peers`. */
export function peersDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "wm-bench", "peers");
}

/**
 * The pinned CLI's entry point, installed with npm into `dir` unless that version is already
 * there. npm runs with the caller's own environment (its config and cache), not a temp home's.
 */
export async function installDevcontainerCli(dir = peersDir()): Promise<string> {
  const pkg = path.join(dir, "node_modules", DEVCONTAINER_CLI);
  const installed = async () =>
    JSON.parse(await fs.readFile(path.join(pkg, "package.json"), "utf8").catch(() => "{}"))
      .version as string | undefined;
  const spec = `${DEVCONTAINER_CLI}@${DEVCONTAINER_CLI_VERSION}`;
  if ((await installed()) !== DEVCONTAINER_CLI_VERSION) {
    process.stderr.write(`peers: installing ${spec} into ${dir}\n`);
    await fs.mkdir(dir, { recursive: true });
    const npmArgs = ["install", "--prefix", dir, "--no-save", "--no-package-lock", "--no-audit"];
    const res = await runCommand("npm", [...npmArgs, "--no-fund", "--ignore-scripts", spec]);
    if (res.code !== 0 || (await installed()) !== DEVCONTAINER_CLI_VERSION)
      throw new Error(
        `peers: could not install ${spec} into ${dir} (npm exited ${res.code}):\n${tail(res.stderr)}\nThe peers suite needs the npm registry once, or that version already in ${dir}.`,
      );
  }
  return path.join(pkg, "devcontainer.js");
}

/** A folder whose `.devcontainer/devcontainer.json` names `image`, and the CLI run against it. */
export class DevcontainerWorkspace {
  /**
   * @param cli the CLI's entry point, from `installDevcontainerCli`
   * @param tmp the CLI's TMPDIR, where it keeps its cache folder: the bench's temp home, not /tmp
   */
  constructor(
    private readonly cli: string,
    readonly folder: string,
    private readonly tmp: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async create(image: string): Promise<void> {
    await fs.mkdir(path.join(this.folder, ".devcontainer"), { recursive: true });
    await fs.mkdir(this.tmp, { recursive: true });
    const config = { name: "wm-bench-peer", image };
    await fs.writeFile(
      path.join(this.folder, ".devcontainer", "devcontainer.json"),
      `${JSON.stringify(config, null, 2)}\n`,
    );
  }

  /**
   * Writes the CLI's control manifest (the list of disallowed features it otherwise refreshes
   * from the network when its copy is over five minutes old) as the empty list, fresh, so no
   * run waits on a network request. Call it before each timed command, outside the timing.
   */
  async freshManifest(): Promise<void> {
    const dir = path.join(this.tmp, `devcontainercli-${os.userInfo().username}`);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(
      path.join(dir, "control-manifest.json"),
      `${JSON.stringify({ disallowedFeatures: [], featureAdvisories: [] })}\n`,
    );
  }

  private async run(args: string[]): Promise<string> {
    const res = await runCommand(process.execPath, [this.cli, ...args], {
      env: { ...this.env, TMPDIR: this.tmp },
    });
    if (res.code !== 0)
      throw new Error(`peers: devcontainer ${args[0]} exited ${res.code}:\n${tail(res.stderr)}`);
    return res.stdout;
  }

  /** `devcontainer up`: creates and starts the container; returns its id. */
  async up(): Promise<string> {
    const out = await this.run(["up", "--workspace-folder", this.folder]);
    const result = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as {
      outcome?: string;
      containerId?: string;
    };
    if (result.outcome !== "success" || !result.containerId)
      throw new Error(`peers: devcontainer up did not succeed: ${out.trim()}`);
    return result.containerId;
  }

  /** `devcontainer exec … true` in the workspace's running container. */
  async exec(): Promise<void> {
    await this.run(["exec", "--workspace-folder", this.folder, "true"]);
  }

  /** Every container the CLI made for this folder, found by the label it puts on them. */
  get labelFilter(): string {
    return `label=devcontainer.local_folder=${this.folder}`;
  }

  async removeContainers(): Promise<void> {
    const ps = await runCommand("docker", ["ps", "-aq", "--filter", this.labelFilter]);
    const ids = ps.stdout.split("\n").filter(Boolean);
    if (ids.length === 0) return;
    const rm = await runCommand("docker", ["rm", "-f", ...ids]);
    if (rm.code !== 0) throw new Error(`peers: docker rm -f ${ids.join(" ")}: ${tail(rm.stderr)}`);
  }
}
