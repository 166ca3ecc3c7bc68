import { createHash, randomBytes } from "node:crypto";
import { existsSync, promises as fs, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { nodeLibraries, SHIM_MOUNT } from "../../sandbox/shim-runtime.ts";
import { GUESTFWD_ADDRESS, type VmShare } from "./qemu-args.ts";

/** The guest port QEMU forwards to the link's Unix socket. */
export const AGENT_PORT = 7070;

export interface AgentRuntime {
  dir: string;
  /** Mount it read-only at /opt/wm in the guest. */
  share: VmShare;
  /** Whether node-pty (terminals) is in it. */
  pty: boolean;
}

/**
 * The `guestfwd` target for the link's socket (VmSpec.network.guestfwd.socketPath): QEMU's
 * chardev options follow the path, and `reconnect=1` makes QEMU connect to the socket again,
 * every second, after the daemon's end went away (a restart) — without it the guestfwd is dead
 * for the VM's remaining life. qemu-args.ts doubles the comma for -nic; the chardev parser
 * gets it single.
 */
export function guestfwdSocket(socketPath: string): string {
  if (socketPath.includes(",")) {
    throw new Error(`the agent link socket path may not contain a comma: ${socketPath}`);
  }
  return `${socketPath},reconnect=1`;
}

/** The guest command that runs the agent for the VM's whole life. */
export function agentCommand(port = AGENT_PORT): string {
  return `exec ${SHIM_MOUNT}/bin/wm agent --connect ${GUESTFWD_ADDRESS}:${port}`;
}

/** node-pty and its binary package for this host, as directories; undefined when absent. */
function findNodePty(): { main: string; binary: string; version: string } | undefined {
  try {
    const req = createRequire(import.meta.url);
    const pkg = req.resolve("@lydell/node-pty/package.json");
    const binaryName = `@lydell/node-pty-${process.platform}-${process.arch}`;
    const binPkg = createRequire(pkg).resolve(`${binaryName}/package.json`);
    const version = (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
    return { main: path.dirname(pkg), binary: path.dirname(binPkg), version };
  } catch {
    return undefined;
  }
}

/**
 * Like the container's /opt/wm (sandbox/shim-runtime.ts), but one directory a 9p share can
 * carry: 9p exports directories, so node itself is copied in rather than bind-mounted, and
 * node-pty (a native addon) sits in node_modules beside wm-shim.js with the libraries it links.
 * Built once per shim, node and node-pty; the guest runs it through the host's dynamic loader.
 */
export async function prepareAgentRuntime(opts: {
  stateDir: string;
  shimBundle: string;
  nodePath?: string;
}): Promise<AgentRuntime> {
  const nodePath = await fs.realpath(opts.nodePath ?? process.execPath);
  const shim = await fs.readFile(opts.shimBundle);
  const nodeStat = await fs.stat(nodePath);
  const pty = findNodePty();
  const key = createHash("sha256")
    .update(shim)
    .update(`${nodePath}:${nodeStat.size}:${nodeStat.mtimeMs}:${pty?.version ?? "no-pty"}`)
    .digest("hex")
    .slice(0, 16);
  const dir = path.join(opts.stateDir, "vm-agent", key);
  if (!existsSync(path.join(dir, "bin", "wm"))) await build(dir, nodePath, shim, pty);
  return {
    dir,
    share: { tag: "wm-agent", hostPath: dir, guestPath: SHIM_MOUNT, readOnly: true },
    pty: pty !== undefined,
  };
}

async function build(
  dir: string,
  nodePath: string,
  shim: Buffer,
  pty: ReturnType<typeof findNodePty>,
): Promise<void> {
  const tmp = `${dir}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await fs.mkdir(path.join(tmp, "bin"), { recursive: true, mode: 0o755 });
  await fs.mkdir(path.join(tmp, "lib"), { mode: 0o755 });
  const { loader, libs } = await nodeLibraries(nodePath);
  if (pty) {
    const modules = path.join(tmp, "node_modules", "@lydell");
    await fs.mkdir(modules, { recursive: true });
    await fs.cp(pty.main, path.join(modules, "node-pty"), { recursive: true, dereference: true });
    const binary = path.join(modules, path.basename(pty.binary));
    await fs.cp(pty.binary, binary, { recursive: true, dereference: true });
    for (const f of await fs.readdir(binary)) {
      if (f.endsWith(".node")) libs.push(...(await nodeLibraries(path.join(binary, f))).libs);
    }
  }
  for (const lib of new Set([loader, ...libs])) {
    const target = path.join(tmp, "lib", path.basename(lib));
    if (existsSync(target)) continue;
    await fs.copyFile(await fs.realpath(lib), target);
    await fs.chmod(target, 0o755);
  }
  await fs.copyFile(nodePath, path.join(tmp, "node"));
  await fs.chmod(path.join(tmp, "node"), 0o755);
  await fs.writeFile(path.join(tmp, "wm-shim.js"), shim, { mode: 0o644 });
  // --library-path also covers what node dlopen()s later (pty.node and its libutil).
  const wrapper = `#!/bin/sh
exec ${SHIM_MOUNT}/lib/${path.basename(loader)} --library-path ${SHIM_MOUNT}/lib ${SHIM_MOUNT}/node ${SHIM_MOUNT}/wm-shim.js "$@"
`;
  await fs.writeFile(path.join(tmp, "bin", "wm"), wrapper, { mode: 0o755 });
  await fs.chmod(tmp, 0o755);
  await fs.mkdir(path.dirname(dir), { recursive: true, mode: 0o755 });
  try {
    await fs.rename(tmp, dir);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    if (!existsSync(path.join(dir, "bin", "wm"))) throw err;
  }
}
