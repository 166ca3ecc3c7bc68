import Docker from "dockerode";

/**
 * A dockerode client of the engine API on `socketPath`, and nowhere else. docker-modem takes its
 * defaults from the environment: a DOCKER_HOST other than unix:// gives a host and a protocol
 * (tcp, ssh) that would win over the socket, so calls meant for Podman's socket, or for one that
 * `wm doctor` probes, would go to that host instead.
 */
export function engineAt(socketPath: string, opts: { timeout?: number } = {}): Docker {
  return new Docker({ ...opts, socketPath, host: undefined, protocol: "http" });
}
