import type { RuntimeName } from "../types.ts";
import { DockerBackend } from "./docker-backend.ts";
import { DEFAULT_DOCKER_SOCKET, ROOTFUL_PODMAN_SOCKET } from "./engine-sockets.ts";

type Env = Readonly<Record<string, string | undefined>>;

export type SocketResolution = { socketPath: string } | { error: string };

/**
 * Where an engine's API listens. Docker: DOCKER_HOST (unix:// only), else /var/run/docker.sock.
 * Podman: WM_PODMAN_SOCKET, else the rootful socket for root, else the user's rootless one.
 */
export function resolveSocket(
  runtime: RuntimeName,
  host: { env: Env; uid: number },
): SocketResolution {
  const { env, uid } = host;
  if (runtime === "docker") {
    const dockerHost = env.DOCKER_HOST;
    if (!dockerHost) return { socketPath: DEFAULT_DOCKER_SOCKET };
    if (dockerHost.startsWith("unix://") && dockerHost.length > "unix://".length) {
      return { socketPath: dockerHost.slice("unix://".length) };
    }
    return {
      error: `DOCKER_HOST=${dockerHost} is not a unix:// socket; wm talks to Docker over a Unix socket only (unset DOCKER_HOST or set it to unix:///var/run/docker.sock)`,
    };
  }
  const override = env.WM_PODMAN_SOCKET;
  if (override) {
    const socketPath = override.replace(/^unix:\/\//, "");
    if (socketPath.startsWith("/")) return { socketPath };
    return { error: `WM_PODMAN_SOCKET=${override} is not an absolute socket path` };
  }
  if (uid === 0) return { socketPath: ROOTFUL_PODMAN_SOCKET };
  const runtimeDir = env.XDG_RUNTIME_DIR || `/run/user/${uid}`;
  return { socketPath: `${runtimeDir}/podman/podman.sock` };
}

/** A backend for `runtime` on this host; throws with the reason when its socket is unusable. */
export function connectBackend(
  runtime: RuntimeName,
  host: { env: Env; uid: number },
): DockerBackend {
  const where = resolveSocket(runtime, host);
  if ("error" in where) throw new Error(`${runtime}: ${where.error}`);
  return new DockerBackend({ runtime, socketPath: where.socketPath });
}
