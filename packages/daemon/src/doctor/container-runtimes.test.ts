import { describe, expect, it } from "vitest";
import { dockerSocket, podmanSocket } from "./container-runtimes.ts";
import { fakeHost } from "./fake-host.ts";
import { runDoctor } from "./index.ts";

const engine = { name: "Engine", version: "20.10.24", apiVersion: "1.41" };
const podmanEngine = { name: "Podman Engine", version: "4.3.1", apiVersion: "1.41" };

async function check(name: string, host: Parameters<typeof fakeHost>[0]) {
  const checks = await runDoctor(fakeHost(host));
  const found = checks.find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} check`);
  return found;
}

describe("docker check", () => {
  it("reports the engine version from the default socket", async () => {
    const docker = await check("docker", { engines: { "/var/run/docker.sock": engine } });
    expect(docker).toEqual({
      name: "docker",
      status: "ok",
      detail: "Engine 20.10.24 (API 1.41) at /var/run/docker.sock",
    });
  });

  it("honours DOCKER_HOST=unix://", async () => {
    const docker = await check("docker", {
      env: { DOCKER_HOST: "unix:///tmp/d.sock" },
      engines: { "/tmp/d.sock": engine },
    });
    expect(docker.status).toBe("ok");
    expect(docker.detail).toContain("/tmp/d.sock");
  });

  it("fails on a DOCKER_HOST that is not a Unix socket", async () => {
    expect(dockerSocket({ DOCKER_HOST: "tcp://127.0.0.1:2375" })).toHaveProperty("error");
    const docker = await check("docker", { env: { DOCKER_HOST: "tcp://127.0.0.1:2375" } });
    expect(docker.status).toBe("fail");
    expect(docker.fix).toContain("DOCKER_HOST");
  });

  it("tells how to start an installed engine that is down", async () => {
    const docker = await check("docker", { binaries: { docker: "Docker version 20.10" } });
    expect(docker.status).toBe("fail");
    expect(docker.detail).toContain("no socket at /var/run/docker.sock");
    expect(docker.fix).toBe("sudo bash scripts/start-docker.sh (or sudo systemctl start docker)");
  });

  it("tells how to get permission on the socket", async () => {
    const docker = await check("docker", {
      binaries: { docker: "Docker version 20.10" },
      engines: { "/var/run/docker.sock": "EACCES" },
    });
    expect(docker.status).toBe("fail");
    expect(docker.fix).toContain("usermod -aG docker");
  });

  it("tells how to install Docker when nothing is there", async () => {
    const docker = await check("docker", {});
    expect(docker.status).toBe("fail");
    expect(docker.fix).toContain("apt-get install -y docker.io");
  });

  it("is only a warning when Podman works", async () => {
    const docker = await check("docker", {
      engines: { "/run/user/1000/podman/podman.sock": podmanEngine },
    });
    expect(docker.status).toBe("warn");
    expect(docker.fix).toContain("apt-get install -y docker.io");
  });
});

describe("podman check", () => {
  it("picks the socket by user and override", () => {
    expect(podmanSocket({}, 0)).toBe("/run/podman/podman.sock");
    expect(podmanSocket({ XDG_RUNTIME_DIR: "/run/user/1000" }, 1000)).toBe(
      "/run/user/1000/podman/podman.sock",
    );
    expect(podmanSocket({}, 1001)).toBe("/run/user/1001/podman/podman.sock");
    expect(podmanSocket({ WM_PODMAN_SOCKET: "unix:///x/p.sock" }, 0)).toBe("/x/p.sock");
  });

  it("reports the version through the rootful socket as root", async () => {
    const podman = await check("podman", {
      uid: 0,
      engines: { "/run/podman/podman.sock": podmanEngine },
    });
    expect(podman).toMatchObject({
      status: "ok",
      detail: expect.stringContaining("Podman Engine 4.3.1"),
    });
  });

  it("warns with the service command when only the binary is there", async () => {
    const podman = await check("podman", { uid: 0, binaries: { podman: "podman version 4.3.1" } });
    expect(podman.status).toBe("warn");
    expect(podman.fix).toContain(
      "mkdir -p /run/podman && podman system service --time=0 unix:///run/podman/podman.sock",
    );
    expect(podman.fix).toContain("CONTAINERS_CONF");
  });

  it("uses sudo for the rootful socket when not root", async () => {
    const podman = await check("podman", {
      env: { WM_PODMAN_SOCKET: "/run/podman/podman.sock" },
      binaries: { podman: "podman version 4.3.1" },
    });
    expect(podman.fix).toContain(
      "sudo podman system service --time=0 unix:///run/podman/podman.sock",
    );
  });

  it("warns when Podman is absent", async () => {
    const podman = await check("podman", {});
    expect(podman.status).toBe("warn");
    expect(podman.fix).toContain("apt-get install -y podman");
  });
});
