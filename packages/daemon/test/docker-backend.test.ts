import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachPath, hijack } from "../src/backends/docker/hijack.ts";
import {
  availableRuntimes,
  BASE,
  containerFixture,
  SOCKETS,
  text,
  until,
} from "./container-fixture.ts";

const TTY_KEYS = ["sh", "-c", "stty raw -echo; echo ready; head -c 4 | od -An -c"];

describe.each(await availableRuntimes())(
  "DockerBackend on %s: terminals and lifecycle",
  (runtime) => {
    const f = containerFixture(runtime, "backend");
    const { backend } = f;
    beforeAll(() => f.setup(), 300_000);
    afterAll(() => f.cleanup());

    it("reports the engine version", async () => {
      expect(await backend.version()).toMatch(/^\d+\.\d+/);
    });

    it("attaches without a TTY: stdout and stderr apart, stdin to EOF, exit code", async () => {
      const cmd = ["sh", "-c", "cat; echo to-stderr >&2; exit 3"];
      const id = await backend.create(f.spec({ cmd, openStdin: true }));
      const io = await backend.attach(id, { tty: false, stdin: true });
      const [out, err] = [text(io.stdout), text(io.stderr)];
      await backend.start(id);
      io.stdin?.end("through stdin\n");
      expect(await backend.wait(id)).toBe(3);
      expect(await out).toBe("through stdin\n");
      expect(await err).toBe("to-stderr\n");
      expect(await backend.inspect(id)).toMatchObject({ state: "exited", exitCode: 3 });
    });

    it("attaches with a TTY, resizes it, and reports the exit code", async () => {
      const cmd = ["sh", "-c", "read x; stty size; read y; echo got:$y; exit 4"];
      const id = await backend.create(f.spec({ cmd, tty: true, openStdin: true }));
      const io = await backend.attach(id, { tty: true, stdin: true });
      let out = "";
      io.stdout.on("data", (d: Buffer) => {
        out += d.toString("utf8");
      });
      await backend.start(id);
      await backend.resize(id, { rows: 33, cols: 101 });
      io.stdin?.write("\n");
      await until(() => out, /33 101/);
      io.stdin?.write("hello\n");
      expect(await backend.wait(id)).toBe(4);
      await until(() => out, /got:hello/);
      io.close();
    });

    it("passes Ctrl-P Ctrl-Q to a TTY program instead of detaching", async () => {
      const id = await backend.create(f.spec({ cmd: TTY_KEYS, tty: true, openStdin: true }));
      const io = await backend.attach(id, { tty: true, stdin: true });
      let out = "";
      io.stdout.on("data", (d: Buffer) => {
        out += d.toString("utf8");
      });
      await backend.start(id);
      await until(() => out, /ready/);
      io.stdin?.write("a\x10\x11b");
      expect(await backend.wait(id)).toBe(0);
      expect(await until(() => out, /020/)).toMatch(/a\s+020\s+021\s+b/);
    });

    // Podman 4.3's compatibility API does not detach on these keys, so the control is Docker's.
    it.runIf(runtime === "docker")(
      "control: with the default detach keys they never arrive",
      async () => {
        const id = await backend.create(f.spec({ cmd: TTY_KEYS, tty: true, openStdin: true }));
        const socket = await hijack(SOCKETS[runtime], attachPath(id, true, "ctrl-p,ctrl-q"));
        let seen = "";
        socket.on("data", (d: Buffer) => {
          seen += d.toString("utf8");
        });
        await backend.start(id);
        await until(() => seen, /ready/);
        socket.write("a\x10\x11b");
        await new Promise((r) => setTimeout(r, 1000));
        expect(seen).not.toMatch(/020/);
        expect((await backend.inspect(id))?.state).toBe("running");
        socket.destroy();
      },
    );

    it("execs with output, exit code and user", async () => {
      const id = await f.sleeper();
      const r = await backend.exec(id, ["sh", "-c", "echo out; echo err >&2; exit 7"]);
      expect(r).toEqual({ exitCode: 7, stdout: "out\n", stderr: "err\n" });
      expect((await backend.exec(id, ["id", "-u"], { user: "4321:4321" })).stdout).toBe("4321\n");
    });

    it("names the OCI runtimes the engine has, and runs a container with one of them", async () => {
      const runtimes = await backend.runtimes();
      expect(runtimes).toContain("runc");
      const id = await backend.create(f.spec({ cmd: ["true"], ociRuntime: "runc" }));
      await backend.start(id);
      expect(await backend.wait(id)).toBe(0);
    });

    it("signals the command through the init, which forwards it", async () => {
      const id = await f.sleeper();
      await backend.kill(id, "SIGTERM");
      expect(await backend.wait(id)).toBe(143);
      await backend.kill(id, "SIGTERM");
    });

    it("lists by label on the engine side, inspects, stops and removes", async () => {
      const mark = { ...f.labels, "wm.test.list": `${f.tag}-${runtime}` };
      const a = await f.sleeper({ labels: mark });
      const b = await backend.create(f.spec({ labels: { ...mark, extra: "yes" } }));
      await f.sleeper();
      expect((await backend.listByLabels(mark)).map((c) => c.id).sort()).toEqual([a, b].sort());
      expect((await backend.listByLabels({ ...mark, extra: "yes" })).map((c) => c.id)).toEqual([b]);
      const info = await backend.inspect(a);
      expect(info).toMatchObject({ id: a, state: "running", exitCode: undefined });
      expect(info?.image).toContain(BASE);
      expect(info?.labels["wm.test.list"]).toBe(mark["wm.test.list"]);
      expect(info?.ipAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(info?.gateway).toBe(await backend.bridgeGateway());
      await backend.stop(a, 1);
      await backend.stop(a, 1);
      expect((await backend.inspect(a))?.state).toBe("exited");
      await backend.remove(a);
      await backend.remove(a);
      expect(await backend.inspect(a)).toBeUndefined();
      await expect(backend.listByLabels({})).rejects.toThrow("at least one label");
    });

    it("answers undefined for missing containers and images", async () => {
      expect(await backend.inspect("wm-test-no-such-container")).toBeUndefined();
      expect(await backend.inspectImage("wm-test-no-such-image:x")).toBeUndefined();
    });
  },
);
