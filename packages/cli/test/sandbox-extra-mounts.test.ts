import { once } from "node:events";
import { promises as fs } from "node:fs";
import net from "node:net";
import path from "node:path";
import { makeSandboxHome, runWm, type SandboxHome } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPLY = "host-service-reached";

// A host service's socket, reached through a hard link that looks like an ordinary file.
describe.each(["docker", "podman"] as const)(
  "%s: a hard link to a socket in extra_mounts",
  (runtime) => {
    let bench: SandboxHome;
    let server: net.Server;
    let link: string;
    let connections = 0;

    beforeAll(async () => {
      bench = await makeSandboxHome({
        branches: ["mounts"],
        config: `agent: demo\nsandbox:\n  container:\n    runtime: ${runtime}\n`,
      });
      const root = bench.home.root;
      await fs.mkdir(path.join(root, "service"));
      await fs.mkdir(path.join(root, "shared"));
      const socket = path.join(root, "service", "host.sock");
      server = net.createServer((conn) => {
        connections += 1;
        conn.end(`HTTP/1.0 200 OK\r\nContent-Length: ${REPLY.length}\r\n\r\n${REPLY}`);
      });
      server.listen(socket);
      await once(server, "listening");
      await fs.chmod(socket, 0o666);
      link = path.join(root, "shared", "notes");
      await fs.link(socket, link);
    }, 320_000);

    afterAll(async () => {
      server?.close();
      await bench?.cleanup();
    });

    async function runWithMount(force: boolean) {
      await fs.writeFile(
        path.join(bench.home.configDir, "config.yaml"),
        [
          "agent: demo",
          "sandbox:",
          "  container:",
          `    runtime: ${runtime}`,
          "  extra_mounts:",
          `    - { host_path: ${link}, force: ${force} }`,
          "",
        ].join("\n"),
      );
      const wt = bench.repo.worktrees.mounts as string;
      return runWm(
        [
          "sandbox",
          "run",
          "--worktree",
          wt,
          "--",
          "curl",
          "-sS",
          "--unix-socket",
          link,
          "http://host.invalid/",
        ],
        { env: bench.home.env, timeoutMs: 60_000 },
      );
    }

    it("is refused with an error naming the mount, and nothing runs", async () => {
      const res = await runWithMount(false);
      expect(res.code).not.toBe(0);
      expect(res.stdout).toBe("");
      expect(res.stderr).toContain(`sandbox.extra_mounts: ${link} is a Unix socket`);
      expect(res.stderr).toContain("force: true");
      expect(connections).toBe(0);
    });

    it("with force: true, the sandbox reaches the host service through it", async () => {
      const connected = once(server, "connection");
      const res = await runWithMount(true);
      expect(res.stderr).toBe("");
      expect(res.stdout).toBe(REPLY);
      expect(res.code).toBe(0);
      // curl printed the reply, so the server has already seen the connection.
      await connected;
      expect(connections).toBe(1);
    });
  },
);
