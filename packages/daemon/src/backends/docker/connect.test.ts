import { describe, expect, it } from "vitest";
import { connectBackend, resolveSocket } from "./connect.ts";

describe("resolveSocket", () => {
  it("docker: DOCKER_HOST unix:// or the default socket; refuses tcp", () => {
    expect(resolveSocket("docker", { env: {}, uid: 1000 })).toEqual({
      socketPath: "/var/run/docker.sock",
    });
    expect(
      resolveSocket("docker", { env: { DOCKER_HOST: "unix:///tmp/d.sock" }, uid: 1000 }),
    ).toEqual({ socketPath: "/tmp/d.sock" });
    const tcp = resolveSocket("docker", { env: { DOCKER_HOST: "tcp://1.2.3.4:2375" }, uid: 0 });
    expect(tcp).toMatchObject({ error: expect.stringContaining("not a unix:// socket") });
  });

  it("podman: WM_PODMAN_SOCKET, rootful for root, rootless otherwise", () => {
    const env = { XDG_RUNTIME_DIR: "/run/user/1000" };
    expect(resolveSocket("podman", { env, uid: 0 })).toEqual({
      socketPath: "/run/podman/podman.sock",
    });
    expect(resolveSocket("podman", { env, uid: 1000 })).toEqual({
      socketPath: "/run/user/1000/podman/podman.sock",
    });
    expect(resolveSocket("podman", { env: {}, uid: 1001 })).toEqual({
      socketPath: "/run/user/1001/podman/podman.sock",
    });
    expect(
      resolveSocket("podman", { env: { ...env, WM_PODMAN_SOCKET: "unix:///x/p.sock" }, uid: 0 }),
    ).toEqual({ socketPath: "/x/p.sock" });
  });

  it("connectBackend throws the reason", () => {
    expect(() => connectBackend("docker", { env: { DOCKER_HOST: "ssh://h" }, uid: 0 })).toThrow(
      /^docker: DOCKER_HOST=ssh:\/\/h/,
    );
    const b = connectBackend("podman", { env: {}, uid: 0 });
    expect([b.runtime, b.socketPath]).toEqual(["podman", "/run/podman/podman.sock"]);
  });
});
