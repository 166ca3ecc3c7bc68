import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { REPO_ROOT } from "@wm/testing";
import Docker from "dockerode";
import { DockerBackend } from "../src/backends/docker/docker-backend.ts";
import type { ContainerSpec, RuntimeName } from "../src/backends/types.ts";

export const BASE = "wm-base:bookworm";
export const SOCKETS: Record<RuntimeName, string> = {
  docker: "/var/run/docker.sock",
  podman: "/run/podman/podman.sock",
};

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: "/version", timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}

/** Docker always; Podman too when its Docker-compatible API answers on this machine. */
export async function availableRuntimes(): Promise<RuntimeName[]> {
  return (await answers(SOCKETS.podman)) ? ["docker", "podman"] : ["docker"];
}

export function text(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    stream.on("data", (d: Buffer) => {
      out += d.toString("utf8");
    });
    stream.on("end", () => resolve(out));
    stream.on("error", reject);
  });
}

export async function until(read: () => string, pattern: RegExp, ms = 10_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}: ${read()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return read();
}

/**
 * A backend on a real engine whose containers (and images) carry `wm.test=<label>` and this
 * run's tag; `setup` makes sure the base image exists, `cleanup` force-removes what it made.
 */
export function containerFixture(runtime: RuntimeName, label: string) {
  const backend = new DockerBackend({ runtime, socketPath: SOCKETS[runtime] });
  const engine = new Docker({ socketPath: SOCKETS[runtime] });
  const tag = Math.random().toString(36).slice(2, 8);
  // Test files run in parallel: each cleans up only what its own run created.
  const labels = { "wm.test": label, "wm.test.run": tag };
  let n = 0;
  const f = {
    runtime,
    backend,
    engine,
    labels,
    tag,
    tmp: "",
    spec(over: Partial<ContainerSpec> = {}): ContainerSpec {
      return {
        name: `wm-test-${tag}-${++n}`,
        image: BASE,
        user: "1000:1000",
        workdir: "/",
        cmd: ["true"],
        env: {},
        mounts: [],
        labels,
        tty: false,
        openStdin: false,
        pidsLimit: 256,
        ...over,
      };
    },
    async sleeper(over: Partial<ContainerSpec> = {}): Promise<string> {
      const id = await backend.create(f.spec({ cmd: ["sleep", "300"], ...over }));
      await backend.start(id);
      return id;
    },
    /** Runs a container to its end; returns its exit code and separated output. */
    async runToEnd(over: Partial<ContainerSpec>) {
      const id = await backend.create(f.spec(over));
      const io = await backend.attach(id, { tty: false, stdin: false });
      const [stdout, stderr] = [text(io.stdout), text(io.stderr)];
      await backend.start(id);
      const exitCode = await backend.wait(id);
      return { exitCode, stdout: await stdout, stderr: await stderr };
    },
    async setup(): Promise<void> {
      if (!(await backend.inspectImage(BASE))) {
        const script = path.join(REPO_ROOT, "scripts/build-base-image.sh");
        execFileSync("bash", [script, "--runtime", runtime], { stdio: "inherit" });
      }
      f.tmp = await mkdtemp(path.join(os.tmpdir(), `wm-${label}-`));
    },
    async cleanup(): Promise<void> {
      for (const c of await backend.listByLabels(labels)) await backend.remove(c.id);
      const byLabel = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
      // Newest first, in a few passes: an image with children cannot go before them.
      for (let pass = 0; pass < 3; pass++) {
        const images = await engine.listImages({ filters: { label: byLabel } });
        if (images.length === 0) break;
        images.sort((a, b) => b.Created - a.Created);
        for (const img of images) {
          await engine
            .getImage(img.Id)
            .remove({ force: true })
            .catch(() => {});
        }
      }
      if (f.tmp) await rm(f.tmp, { recursive: true, force: true });
    },
  };
  return f;
}
