import { access, chmod, mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerBackend } from "../src/backends/docker/docker-backend.ts";
import { availableRuntimes, BASE, containerFixture, SOCKETS, text } from "./container-fixture.ts";

const STATUS = ["grep", "-E", "^(CapEff|NoNewPrivs)", "/proc/self/status"];

describe.each(await availableRuntimes())("DockerBackend on %s: isolation", (runtime) => {
  const f = containerFixture(runtime, "backend");
  const { backend, engine } = f;
  beforeAll(() => f.setup(), 300_000);
  afterAll(() => f.cleanup());

  it("stacks nested mounts: read-only on read-write, and read-write on read-only", async () => {
    const dirs = ["rw", "rw-ro", "ro", "ro-rw"].map((d) => path.join(f.tmp, d));
    for (const d of dirs) {
      await mkdir(d, { recursive: true });
      await chmod(d, 0o777);
    }
    const [rw, rwRo, ro, roRw] = dirs as [string, string, string, string];
    await mkdir(path.join(ro, "open"));
    const id = await f.sleeper({
      mounts: [
        { source: rw, target: "/w", readOnly: false },
        { source: rwRo, target: "/w/locked", readOnly: true },
        { source: ro, target: "/r", readOnly: true },
        { source: roRw, target: "/r/open", readOnly: false },
      ],
    });
    const write = (file: string) =>
      backend.exec(id, ["sh", "-c", `echo x > ${file}`]).then((r) => r.exitCode === 0 || r.stderr);
    expect(await write("/w/a")).toBe(true);
    expect(await write("/w/locked/a")).toMatch(/Read-only file system/);
    expect(await write("/r/a")).toMatch(/Read-only file system/);
    expect(await write("/r/open/a")).toBe(true);
  });

  it("drops every capability, sets no-new-privileges and runs an init as PID 1", async () => {
    const id = await f.sleeper({ memoryBytes: 256 * 2 ** 20, cpus: 0.5 });
    const status = await backend.exec(id, STATUS);
    expect(status.stdout).toMatch(/CapEff:\s+0{16}/);
    expect(status.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect((await backend.exec(id, ["cat", "/proc/1/comm"])).stdout.trim()).not.toBe("sleep");
    const hc = (await engine.getContainer(id).inspect()).HostConfig as Record<string, unknown>;
    const dropped = runtime === "docker" ? ["ALL"] : ["CHOWN", "SETUID", "NET_RAW", "DAC_OVERRIDE"];
    expect(hc.CapDrop).toEqual(expect.arrayContaining(dropped));
    expect(hc.CapAdd ?? []).toEqual([]);
    expect(hc.SecurityOpt).toEqual(expect.arrayContaining([expect.stringMatching(/no-new-priv/)]));
    expect(hc).toMatchObject({ Privileged: false, Init: true, PidsLimit: 256 });
    expect([hc.Memory, hc.NanoCpus]).toEqual([256 * 2 ** 20, 500_000_000]);
    expect(hc.NetworkMode).not.toBe("host");
    expect(hc.PidMode ?? "").not.toBe("host");
  });

  it("control: a container created without wm's options keeps its capabilities", async () => {
    const c = await engine.createContainer({
      name: `wm-test-${f.tag}-control`,
      Image: BASE,
      Cmd: STATUS,
      Labels: f.labels,
    });
    const io = await backend.attach(c.id, { tty: false, stdin: false });
    const out = text(io.stdout);
    await c.start();
    await c.wait();
    expect(await out).not.toMatch(/CapEff:\s+0{16}/);
    expect(await out).toMatch(/NoNewPrivs:\s+0/);
  });

  it("refuses the engine socket and missing mount sources (Podman would create them)", async () => {
    const socket = { source: SOCKETS[runtime], target: "/s", readOnly: true };
    await expect(backend.create(f.spec({ mounts: [socket] }))).rejects.toThrow(
      `${runtime}: cannot create container wm-test-${f.tag}-`,
    );
    await expect(backend.create(f.spec({ mounts: [socket] }))).rejects.toThrow("engine socket");
    const run = { source: path.dirname(SOCKETS[runtime]), target: "/s", readOnly: true };
    await expect(backend.create(f.spec({ mounts: [run] }))).rejects.toThrow("engine socket");
    const missing = { source: path.join(f.tmp, "absent"), target: "/a", readOnly: true };
    await expect(backend.create(f.spec({ mounts: [missing] }))).rejects.toThrow(
      `mount source ${missing.source} does not exist`,
    );
    await expect(access(missing.source)).rejects.toThrow("ENOENT");
  });

  it("says what failed, on which runtime, and what to do", async () => {
    const name = `wm-test-${f.tag}-missing`;
    await expect(backend.create(f.spec({ name, image: "wm-sandbox:wmtest-nope" }))).rejects.toThrow(
      `${runtime}: cannot create container ${name}: image "wm-sandbox:wmtest-nope" not found; build it with \`wm sandbox build --agent wmtest-nope\``,
    );
    const roParent = path.join(f.tmp, "bare-ro");
    await mkdir(roParent, { recursive: true });
    const nested = await backend.create(
      f.spec({
        mounts: [
          { source: roParent, target: "/r", readOnly: true },
          { source: f.tmp, target: "/r/missing-point", readOnly: false },
        ],
      }),
    );
    await expect(backend.start(nested)).rejects.toThrow(
      "mount point /r/missing-point does not exist inside the read-only mount beneath it",
    );
    const gone = new DockerBackend({ runtime, socketPath: path.join(f.tmp, "no.sock") });
    await expect(gone.version()).rejects.toThrow(`no ${runtime} socket at ${gone.socketPath}`);
  });
});
