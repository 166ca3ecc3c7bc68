// The socket wm resolved is the one its engine calls go to. docker-modem takes a DOCKER_HOST from
// the environment as its defaults; connect.ts refuses one that is not unix:// for Docker, but
// Podman's socket and the sockets `wm doctor` probes are chosen without it, and a tcp:// or
// ssh:// DOCKER_HOST left in the daemon's environment must not send their calls elsewhere.
import { afterEach, describe, expect, it } from "vitest";
import { DockerBackend } from "../src/backends/docker/docker-backend.ts";
import { probeEngineVersion } from "../src/backends/docker/engine-probe.ts";
import { SOCKETS } from "./container-fixture.ts";

const saved = process.env.DOCKER_HOST;
afterEach(() => {
  if (saved === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = saved;
});

// Port 1 on loopback: nothing listens, so a call that went there fails.
describe.each(["ssh://nobody@127.0.0.1:1", "tcp://127.0.0.1:1"])("DOCKER_HOST=%s", (host) => {
  it("a backend on a socket (as Podman's is given) answers from that socket", async () => {
    process.env.DOCKER_HOST = host;
    const backend = new DockerBackend({ runtime: "podman", socketPath: SOCKETS.docker });
    expect(await backend.version()).toMatch(/^\d+\.\d+/);
  });

  it("a probe of a socket asks that socket", async () => {
    process.env.DOCKER_HOST = host;
    const v = await probeEngineVersion(SOCKETS.docker, 10_000);
    expect(v.apiVersion).toMatch(/^\d+\.\d+/);
  });
});
