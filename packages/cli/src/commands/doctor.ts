import { promises as fs } from "node:fs";
import type { DoctorCheck } from "@wm/protocol";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { type CommandContext, defineCommand } from "./spec.ts";

const MIN_NODE = [20, 11] as const;

function nodeCheck(): DoctorCheck {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return ok
    ? { name: "node", status: "ok", detail: `v${process.versions.node}` }
    : {
        name: "node",
        status: "fail",
        detail: `v${process.versions.node}`,
        fix: `install Node.js ${MIN_NODE.join(".")} or newer`,
      };
}

async function socketDirCheck(ctx: CommandContext): Promise<DoctorCheck> {
  let dir: string;
  try {
    dir = ctx.paths().runtimeDir;
  } catch (err) {
    return {
      name: "socket directory",
      status: "fail",
      detail: (err as Error).message,
      fix: "set WM_RUNTIME_DIR to a short directory you own",
    };
  }
  try {
    const st = await fs.lstat(dir);
    const uid = process.getuid?.() ?? 0;
    if (st.isSymbolicLink() || !st.isDirectory()) {
      return {
        name: "socket directory",
        status: "fail",
        detail: `${dir} is not a plain directory`,
        fix: `remove ${dir}`,
      };
    }
    if (st.uid !== uid) {
      return {
        name: "socket directory",
        status: "fail",
        detail: `${dir} is owned by uid ${st.uid}`,
        fix: `remove ${dir} or set WM_RUNTIME_DIR`,
      };
    }
    if ((st.mode & 0o077) !== 0) {
      return {
        name: "socket directory",
        status: "fail",
        detail: `${dir} has mode ${(st.mode & 0o777).toString(8)}`,
        fix: `chmod 700 ${dir}`,
      };
    }
    return { name: "socket directory", status: "ok", detail: `${dir} (0700, yours)` };
  } catch {
    return { name: "socket directory", status: "ok", detail: `${dir} (created on first start)` };
  }
}

const MARK = { ok: "ok  ", warn: "warn", fail: "FAIL" } as const;

function render(checks: DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks
    .map(
      (c) =>
        `${MARK[c.status]}  ${c.name.padEnd(width)}  ${c.detail}${c.fix && c.status !== "ok" ? `\n      ${" ".repeat(width)}  fix: ${c.fix}` : ""}`,
    )
    .join("\n");
}

export const doctorCommand = defineCommand({
  name: "doctor",
  summary:
    "Check what wm needs: node, socket directory, daemon, Docker, Podman, tmux, git, bubblewrap, qemu",
  description:
    "Each check is ok, warn or fail, with the fix. bubblewrap is tried for real (host commands run inside it; it needs unprivileged user namespaces), and each name in sandbox.host_commands is listed with where the daemon finds it. Exits 1 when any check fails.",
  json: true,
  run: async (ctx) => {
    const checks: DoctorCheck[] = [nodeCheck(), await socketDirCheck(ctx)];
    try {
      const status = await ctx.daemon((c) => c.call("daemon.status", {}));
      checks.push({
        name: "daemon",
        status: "ok",
        detail: `pid ${status.pid}, wm ${status.version}`,
      });
      const remote = await ctx.daemon((c) => c.call("doctor.run", {}));
      checks.push(...remote.checks);
    } catch (err) {
      checks.push({
        name: "daemon",
        status: "fail",
        detail: (err as Error).message,
        fix: "run `wm daemon logs` to see why it does not start",
      });
    }
    report(ctx, { checks }, (d) => render(d.checks));
    return checks.some((c) => c.status === "fail") ? ExitCode.Failure : ExitCode.Ok;
  },
});
