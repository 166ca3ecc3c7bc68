import { spawn } from "node:child_process";
import { lstat, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execTool, withSbin } from "./vm-exec.ts";
import { indexTar, type TarMember } from "./vm-tar-index.ts";

export interface ExtraFile {
  /** Relative to the root, e.g. "sbin/wm-init". */
  path: string;
  mode: number;
  data: string | Buffer;
}

type Env = Readonly<Record<string, string | undefined>>;

const GiB = 1024 ** 3;

function quote(p: string): string {
  if (/["\n\\]/.test(p))
    throw new Error(`root file system path debugfs cannot name: ${JSON.stringify(p)}`);
  return `"/${p}"`;
}

/**
 * debugfs commands that give each inode the owner, mode and device numbers the tarball records.
 * Unpacking without root leaves everything owned by the unpacking user and no device nodes;
 * mke2fs -d copies what it finds, so the differences are written straight into the image.
 */
export async function ownershipFixups(
  root: string,
  members: readonly TarMember[],
): Promise<string[]> {
  const cmds: string[] = [];
  // A path archived twice ends up as its last member, on disk as in tar's own unpacking.
  const last = new Map(members.map((m) => [m.path, m]));
  for (const m of last.values()) {
    if (m.path === "") continue;
    const p = quote(m.path);
    if (m.type === "3" || m.type === "4") {
      // debugfs's mknod links the name into its current directory.
      const dir = path.posix.dirname(m.path);
      cmds.push(`cd ${quote(dir === "." ? "" : dir)}`);
      cmds.push(
        `mknod "${path.posix.basename(m.path)}" ${m.type === "3" ? "c" : "b"} ${m.devMajor} ${m.devMinor}`,
      );
      cmds.push("cd /");
      cmds.push(`sif ${p} mode 0${((m.type === "3" ? 0o020000 : 0o060000) | m.mode).toString(8)}`);
      cmds.push(`sif ${p} uid ${m.uid}`, `sif ${p} gid ${m.gid}`);
      continue;
    }
    const st = await lstat(path.join(root, m.path));
    if (st.uid !== m.uid) cmds.push(`sif ${p} uid ${m.uid}`);
    if (st.gid !== m.gid) cmds.push(`sif ${p} gid ${m.gid}`);
    if (!st.isSymbolicLink() && (st.mode & 0o7777) !== m.mode) {
      cmds.push(`sif ${p} mode 0${((st.mode & ~0o7777) | m.mode).toString(8)}`);
    }
  }
  return cmds;
}

/**
 * An ext4 image of the tarball's root file system plus `extra` files, built without root
 * privileges and without mounting anything: unpack (devices skipped), `mke2fs -d`, then debugfs
 * for owners, modes and device nodes. `work` is an empty scratch directory.
 */
export async function buildRootDisk(opts: {
  tarball: string;
  extra: readonly ExtraFile[];
  work: string;
  out: string;
  env: Env;
}): Promise<{ bytes: number; fixups: number }> {
  const members = await indexTar(opts.tarball);
  const root = path.join(opts.work, "rootfs");
  await mkdir(root, { recursive: true });
  const devices = members.filter((m) => m.type === "3" || m.type === "4");
  const excludes = path.join(opts.work, "devices.exclude");
  await writeFile(excludes, devices.map((d) => `${d.path}\n`).join(""));
  await execTool(
    "tar",
    [
      "-x",
      "-f",
      opts.tarball,
      "-C",
      root,
      "--no-same-owner",
      "--preserve-permissions",
      "--no-wildcards",
      "--exclude-from",
      excludes,
    ],
    { env: opts.env },
  );
  // A device's directory may have no member of its own; tar then made none, as it skipped the device.
  for (const d of devices) await mkdir(path.join(root, path.dirname(d.path)), { recursive: true });
  const all = [...members];
  for (const f of opts.extra) {
    const file = path.join(root, f.path);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, f.data, { mode: f.mode });
    all.push({
      path: f.path,
      type: "0",
      mode: f.mode,
      uid: 0,
      gid: 0,
      devMajor: 0,
      devMinor: 0,
      size: 0,
    });
  }
  const cmds = await ownershipFixups(root, all);

  const used = members.reduce((sum, m) => sum + m.size + 4096, 0);
  const bytes = Math.ceil((used * 1.5 + 2 * GiB) / GiB) * GiB;
  await execTool(
    "mke2fs",
    [
      "-q",
      "-F",
      "-t",
      "ext4",
      "-L",
      "wm-root",
      "-E",
      "root_owner=0:0",
      "-d",
      root,
      opts.out,
      `${bytes / 1024}k`,
    ],
    { env: opts.env },
  );
  if (cmds.length > 0) {
    const script = path.join(opts.work, "fixups.debugfs");
    await writeFile(script, `${cmds.join("\n")}\n`);
    const { stderr } = await debugfs(["-w", "-f", script, opts.out], opts.env);
    const errors = stderr.split("\n").filter((l) => l.trim() && !/^debugfs \d/.test(l));
    if (errors.length > 0) {
      throw new Error(
        `debugfs could not set owners and modes in ${opts.out}:\n  | ${errors.slice(0, 10).join("\n  | ")}`,
      );
    }
  }
  return { bytes, fixups: cmds.length };
}

/** debugfs reports command errors on stderr but exits 0; return both streams. */
async function debugfs(args: string[], env: Env): Promise<{ stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("debugfs", args, {
      env: withSbin(env),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve({ stderr });
      else reject(new Error(`debugfs ${args.join(" ")} failed (exit ${code}): ${stderr.trim()}`));
    });
  });
}
