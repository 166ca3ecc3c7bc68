import path from "node:path";
import type { DoctorCheck } from "@wm/protocol";
import { probeBubblewrap } from "../host-exec/probe.ts";
import { installHint, probeVersion, type VersionProbe } from "./run-version.ts";
import type { DoctorContext } from "./types.ts";

export const MIN_GIT_VERSION: readonly [number, number] = [2, 38];

const RESTART =
  "`wm daemon restart` (`wm daemon install-service` again for a daemon your service manager starts)";

/**
 * The daemon runs tmux and git by name, found on its own PATH only: a binary that the probe
 * found in a system directory outside that PATH is one the daemon cannot run.
 */
function offDaemonPath(ctx: DoctorContext, probe: VersionProbe): DoctorCheck | undefined {
  if (probe.state === "missing") return undefined;
  const dirs = (ctx.env.PATH ?? "")
    .split(path.delimiter)
    .filter((d) => path.isAbsolute(d))
    .map((d) => path.resolve(d));
  const dir = path.dirname(probe.path);
  if (dirs.includes(dir)) return undefined;
  return {
    name: probe.command,
    status: "fail",
    detail: `${probe.path} is not on the daemon's PATH (${ctx.env.PATH ?? "unset"}), so the daemon cannot run ${probe.command}`,
    fix: `restart the daemon from a shell whose PATH has ${dir}: ${RESTART}`,
  };
}

function notInstalled(ctx: DoctorContext, command: string): string {
  return `${command} is not installed (not on the daemon's PATH: ${ctx.env.PATH ?? "unset"})`;
}

export async function checkTmux(ctx: DoctorContext): Promise<DoctorCheck> {
  const probe = await probeVersion(ctx, "tmux", ["-V"]);
  const fix = `${installHint(ctx, ["tmux"])}; if it is installed elsewhere, restart the daemon from a shell where \`tmux -V\` works: ${RESTART}`;
  if (probe.state === "missing") {
    return { name: "tmux", status: "fail", detail: notInstalled(ctx, "tmux"), fix };
  }
  const offPath = offDaemonPath(ctx, probe);
  if (offPath) return offPath;
  if (probe.state === "broken") return { name: "tmux", status: "fail", detail: probe.reason, fix };
  return { name: "tmux", status: "ok", detail: probe.line };
}

export function parseGitVersion(line: string): [number, number, number] | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(line);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export async function checkGit(ctx: DoctorContext): Promise<DoctorCheck> {
  const probe = await probeVersion(ctx, "git");
  const fix = installHint(ctx, ["git"]);
  if (probe.state === "missing") {
    return { name: "git", status: "fail", detail: notInstalled(ctx, "git"), fix };
  }
  const offPath = offDaemonPath(ctx, probe);
  if (offPath) return offPath;
  if (probe.state === "broken") return { name: "git", status: "fail", detail: probe.reason, fix };
  const version = parseGitVersion(probe.line);
  const [minMajor, minMinor] = MIN_GIT_VERSION;
  const min = `${minMajor}.${minMinor}`;
  if (!version) {
    return {
      name: "git",
      status: "warn",
      detail: `cannot read a version from "${probe.line}"`,
      fix: `make sure ${probe.path} is git ${min} or newer`,
    };
  }
  const [major, minor] = version;
  if (major < minMajor || (major === minMajor && minor < minMinor)) {
    return {
      name: "git",
      status: "warn",
      detail: `${probe.line} is older than ${min}`,
      fix: `upgrade git to ${min} or newer`,
    };
  }
  return { name: "git", status: "ok", detail: probe.line };
}

interface LinuxTool {
  name: string;
  command: string;
  pkg: string;
  /** What is lost without it, e.g. "host commands will not be isolated". */
  without: string;
  elsewhereFix: string;
}

/** A tool that exists only on Linux and whose absence degrades wm (warn), never breaks it. */
async function checkLinuxTool(ctx: DoctorContext, tool: LinuxTool): Promise<DoctorCheck> {
  const { name } = tool;
  if (ctx.platform !== "linux") {
    return {
      name,
      status: "warn",
      detail: `${name} is Linux-only: ${tool.without} on ${ctx.platform}`,
      fix: tool.elsewhereFix,
    };
  }
  const probe = await probeVersion(ctx, tool.command);
  const fix = installHint(ctx, [tool.pkg]);
  if (probe.state === "missing") {
    return {
      name,
      status: "warn",
      detail: `${tool.command} is not installed: ${tool.without}`,
      fix,
    };
  }
  if (probe.state === "broken") return { name, status: "warn", detail: probe.reason, fix };
  return { name, status: "ok", detail: probe.line };
}

/** Found, and working for this user: a trial run is the only reliable test (user namespaces). */
export async function checkBubblewrap(ctx: DoctorContext): Promise<DoctorCheck> {
  const name = "bubblewrap";
  const without =
    "host commands will not be isolated (wm runs them only with sandbox.dangerously_allow_unsandboxed_host_exec)";
  if (ctx.platform !== "linux") {
    return {
      name,
      status: "warn",
      detail: `${name} is Linux-only: ${without} on ${ctx.platform}`,
      fix: "keep sandbox.host_commands in ~/.config/workmux/config.yaml to commands you trust",
    };
  }
  const probe = await probeBubblewrap(ctx.which, ctx.exec, ctx.timeoutMs);
  if (probe.path === null) {
    return {
      name,
      status: "warn",
      detail: `bwrap is not installed: ${without}`,
      fix: installHint(ctx, ["bubblewrap"]),
    };
  }
  if (!probe.userns) {
    return {
      name,
      status: "warn",
      detail: `${probe.detail}; ${without}`,
      fix: "allow unprivileged user namespaces for bwrap (see the detail), then run wm doctor again",
    };
  }
  return { name, status: "ok", detail: probe.version ?? probe.detail };
}

export function checkDebootstrap(ctx: DoctorContext): Promise<DoctorCheck> {
  return checkLinuxTool(ctx, {
    name: "debootstrap",
    command: "debootstrap",
    pkg: "debootstrap",
    without: "the offline image build cannot run",
    elsewhereFix:
      "build the sandbox image on a Linux host, or set sandbox.image to an image you have",
  });
}
