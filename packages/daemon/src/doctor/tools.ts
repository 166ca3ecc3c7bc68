import type { DoctorCheck } from "@wm/protocol";
import { installHint, probeVersion } from "./run-version.ts";
import type { DoctorContext } from "./types.ts";

export const MIN_GIT_VERSION: readonly [number, number] = [2, 38];

export async function checkTmux(ctx: DoctorContext): Promise<DoctorCheck> {
  const probe = await probeVersion(ctx, "tmux", ["-V"]);
  const fix = installHint(ctx, ["tmux"]);
  if (probe.state === "missing") {
    return { name: "tmux", status: "fail", detail: "tmux is not installed", fix };
  }
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
    return { name: "git", status: "fail", detail: "git is not installed", fix };
  }
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

export async function checkBubblewrap(ctx: DoctorContext): Promise<DoctorCheck> {
  if (ctx.platform !== "linux") {
    return {
      name: "bubblewrap",
      status: "warn",
      detail: `bubblewrap is Linux-only: host commands will not be isolated on ${ctx.platform}`,
      fix: "keep sandbox.host_commands in ~/.config/workmux/config.yaml to commands you trust",
    };
  }
  const probe = await probeVersion(ctx, "bwrap");
  const fix = installHint(ctx, ["bubblewrap"]);
  if (probe.state === "missing") {
    return {
      name: "bubblewrap",
      status: "warn",
      detail: "bwrap is not installed: host commands will not be isolated",
      fix,
    };
  }
  if (probe.state === "broken") {
    return { name: "bubblewrap", status: "warn", detail: probe.reason, fix };
  }
  return { name: "bubblewrap", status: "ok", detail: probe.line };
}

export async function checkDebootstrap(ctx: DoctorContext): Promise<DoctorCheck> {
  if (ctx.platform !== "linux") {
    return {
      name: "debootstrap",
      status: "warn",
      detail: `debootstrap is Linux-only: the offline image build cannot run on ${ctx.platform}`,
      fix: "build the sandbox image on a Linux host, or set sandbox.image to an image you have",
    };
  }
  const probe = await probeVersion(ctx, "debootstrap");
  const fix = installHint(ctx, ["debootstrap"]);
  if (probe.state === "missing") {
    return {
      name: "debootstrap",
      status: "warn",
      detail: "debootstrap is not installed: needed for the offline image build",
      fix,
    };
  }
  if (probe.state === "broken") {
    return { name: "debootstrap", status: "warn", detail: probe.reason, fix };
  }
  return { name: "debootstrap", status: "ok", detail: probe.line };
}
