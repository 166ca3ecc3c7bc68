import { spawn } from "node:child_process";

export interface ExecOptions {
  cwd?: string | undefined;
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Written to the child's stdin, then closed. */
  input?: Buffer | undefined;
}

/**
 * Runs one tool of the VM image build and returns its stdout. A failure names the command and
 * shows the last lines it printed; a missing tool says which Debian package brings it.
 */
export function execTool(cmd: string, args: readonly string[], opts: ExecOptions = {}) {
  return new Promise<Buffer>((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: withSbin(opts.env ?? process.env),
      stdio: [opts.input ? "pipe" : "ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") reject(new Error(`${cmd} is not installed; ${installHint(cmd)}`));
      else reject(e);
    });
    child.on("close", (code) => {
      if (code === 0) return resolve(Buffer.concat(out));
      const tail = Buffer.concat(err).toString("utf8").trim().split("\n").slice(-15).join("\n  | ");
      reject(new Error(`${cmd} ${args.join(" ")} failed (exit ${code}):\n  | ${tail}`));
    });
    if (opts.input && child.stdin) child.stdin.end(opts.input);
  });
}

/** What to install for a tool the VM backend uses. */
export function installHint(cmd: string): string {
  if (cmd.startsWith("qemu-system") || cmd === "qemu-img")
    return "run scripts/install-deps.sh --with-qemu (Debian: qemu-system-x86 qemu-utils)";
  if (cmd === "mke2fs" || cmd === "debugfs") return "install Debian's e2fsprogs";
  if (cmd === "apt-get" || cmd === "apt-cache" || cmd === "dpkg-deb")
    return "the VM image is built from Debian's packages and needs apt and dpkg";
  return "install it and try again";
}

/** mke2fs, debugfs and friends live in /usr/sbin, which a user's PATH on Debian may lack. */
export function withSbin(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  const dirs = (env.PATH ?? "/usr/bin:/bin").split(":");
  for (const d of ["/usr/sbin", "/sbin"]) if (!dirs.includes(d)) dirs.push(d);
  return { ...env, PATH: dirs.join(":") };
}
