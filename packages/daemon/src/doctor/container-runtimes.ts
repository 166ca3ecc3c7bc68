import type { DoctorCheck } from "@wm/protocol";
import { installHint } from "./run-version.ts";
import type { DoctorContext, EngineVersion } from "./types.ts";

const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";
const ROOTFUL_PODMAN_SOCKET = "/run/podman/podman.sock";

type Env = Readonly<Record<string, string | undefined>>;

/** The Docker socket wm talks to: DOCKER_HOST when it is unix://, else the default path. */
export function dockerSocket(env: Env): { socketPath: string } | { error: string } {
  const host = env.DOCKER_HOST;
  if (host === undefined || host === "") return { socketPath: DEFAULT_DOCKER_SOCKET };
  if (host.startsWith("unix://") && host.length > "unix://".length) {
    return { socketPath: host.slice("unix://".length) };
  }
  return {
    error: `DOCKER_HOST=${host} is not a unix:// socket; wm talks to Docker over a Unix socket`,
  };
}

/** WM_PODMAN_SOCKET, else the rootful socket for root, else the user's rootless socket. */
export function podmanSocket(env: Env, uid: number): string {
  const override = env.WM_PODMAN_SOCKET;
  if (override) return override.replace(/^unix:\/\//, "");
  if (uid === 0) return ROOTFUL_PODMAN_SOCKET;
  const runtimeDir = env.XDG_RUNTIME_DIR || `/run/user/${uid}`;
  return `${runtimeDir}/podman/podman.sock`;
}

type EngineAnswer =
  | { ok: true; version: EngineVersion }
  | { ok: false; code?: string; message: string };

async function askEngine(ctx: DoctorContext, socketPath: string): Promise<EngineAnswer> {
  try {
    return { ok: true, version: await ctx.engineVersion(socketPath, ctx.timeoutMs) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, ...(e.code ? { code: e.code } : {}), message: e.message ?? String(err) };
  }
}

function describe(v: EngineVersion, socketPath: string): string {
  return `${v.name} ${v.version} (API ${v.apiVersion}) at ${socketPath}`;
}

function whyDown(answer: { code?: string; message: string }, socketPath: string): string {
  if (answer.code === "ENOENT") return `no socket at ${socketPath}`;
  if (answer.code === "ECONNREFUSED")
    return `${socketPath} refuses connections (engine not running)`;
  if (answer.code === "EACCES") return `permission denied on ${socketPath}`;
  return `${socketPath} does not answer: ${answer.message}`;
}

export async function checkDocker(ctx: DoctorContext): Promise<DoctorCheck> {
  const target = dockerSocket(ctx.env);
  if ("error" in target) {
    return {
      name: "docker",
      status: "fail",
      detail: target.error,
      fix: "unset DOCKER_HOST, or set DOCKER_HOST=unix:///var/run/docker.sock",
    };
  }
  const { socketPath } = target;
  const answer = await askEngine(ctx, socketPath);
  if (answer.ok)
    return { name: "docker", status: "ok", detail: describe(answer.version, socketPath) };

  const binary = (await ctx.which("docker")) ?? (await ctx.which("dockerd"));
  if (!binary) {
    return {
      name: "docker",
      status: "fail",
      detail: `Docker is not installed (${whyDown(answer, socketPath)})`,
      fix:
        ctx.platform === "darwin"
          ? "install Docker Desktop: brew install --cask docker"
          : `${installHint(ctx, ["docker.io"])}, then sudo bash scripts/start-docker.sh`,
    };
  }
  if (answer.code === "EACCES") {
    return {
      name: "docker",
      status: "fail",
      detail: `${binary} is installed but ${whyDown(answer, socketPath)}`,
      fix: "sudo usermod -aG docker $USER, then log in again (or run newgrp docker)",
    };
  }
  return {
    name: "docker",
    status: "fail",
    detail: `${binary} is installed but the engine is down: ${whyDown(answer, socketPath)}`,
    fix:
      ctx.platform === "darwin"
        ? "start Docker Desktop: open -a Docker"
        : "sudo bash scripts/start-docker.sh (or sudo systemctl start docker)",
  };
}

function podmanServiceFix(ctx: DoctorContext, socketPath: string): string {
  const rootful = socketPath.startsWith("/run/podman/");
  const sudo = rootful && ctx.uid !== 0 ? "sudo " : "";
  const dir = socketPath.slice(0, socketPath.lastIndexOf("/"));
  const start = `${sudo}mkdir -p ${dir} && ${sudo}podman system service --time=0 unix://${socketPath} &`;
  const conf =
    'if containers then fail with "setrlimit RLIMIT_NOFILE" or "cgroups in hybrid mode", ' +
    "start the service with CONTAINERS_CONF=<file> where <file> holds " +
    '[containers] default_ulimits = [] and [engine] runtime = "runc"';
  return `${start} — ${conf}`;
}

export async function checkPodman(ctx: DoctorContext): Promise<DoctorCheck> {
  const socketPath = podmanSocket(ctx.env, ctx.uid);
  const answer = await askEngine(ctx, socketPath);
  if (answer.ok)
    return { name: "podman", status: "ok", detail: describe(answer.version, socketPath) };

  const binary = await ctx.which("podman");
  if (!binary) {
    return {
      name: "podman",
      status: "warn",
      detail: "Podman is not installed (optional when Docker works)",
      fix:
        ctx.platform === "darwin"
          ? "brew install podman"
          : `${installHint(ctx, ["podman", "runc"])}, or bash scripts/install-deps.sh --with-podman`,
    };
  }
  return {
    name: "podman",
    status: "warn",
    detail: `${binary} is installed but its Docker-compatible API is not serving: ${whyDown(answer, socketPath)}`,
    fix: podmanServiceFix(ctx, socketPath),
  };
}

/** One working runtime is enough: a failing Docker is only a warning when Podman is ok. */
export function preferEither(docker: DoctorCheck, podman: DoctorCheck): DoctorCheck {
  if (docker.status !== "fail" || podman.status !== "ok") return docker;
  return {
    ...docker,
    status: "warn",
    detail: `${docker.detail}; Podman works, so runtime: podman is enough`,
  };
}
