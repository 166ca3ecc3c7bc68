import { describe, expect, it } from "vitest";
import type { SandboxLaunch } from "../sandbox-backend.ts";
import type {
  AttachedStreams,
  ContainerClient,
  ContainerInfo,
  ContainerSpec,
  ImageClient,
  NetworkClient,
} from "../types.ts";
import { ContainerSandboxBackend, containerSpecOf } from "./container-sandbox.ts";

const launch: SandboxLaunch = {
  name: "wm-feat-012345",
  image: "wm-sandbox:claude",
  user: { uid: 1000, gid: 100 },
  workdir: "/w/feat",
  command: ["claude"],
  env: { WM_SANDBOX_GUEST: "1" },
  mounts: [{ source: "/w/feat", target: "/w/feat", readOnly: false }],
  labels: { "wm.sandbox": "sb-0123456789ab" },
  terminal: { tty: true, stdin: false },
  limits: { pids: 64, memoryBytes: 1024, cpus: 2 },
  ociRuntime: "runsc",
};

const running: ContainerInfo = {
  id: "c1",
  name: "wm-feat-012345",
  image: "wm-sandbox:claude",
  state: "running",
  exitCode: undefined,
  labels: { "wm.sandbox": "sb-0123456789ab" },
  ipAddress: "10.88.0.5",
  gateway: "10.88.0.1",
};

/** An engine that records what it was asked and answers from `containers`. */
function fakeEngine(containers: ContainerInfo[]) {
  const calls: unknown[][] = [];
  const record =
    <T = void>(name: string, answer?: T) =>
    async (...args: unknown[]): Promise<T> => {
      calls.push([name, ...args]);
      return answer as T;
    };
  const engine = {
    runtime: "podman" as const,
    create: record("create", "c1"),
    start: record("start"),
    attach: record<AttachedStreams>("attach"),
    resize: record("resize"),
    wait: record("wait", 3),
    kill: record("kill"),
    stop: record("stop"),
    remove: record("remove"),
    inspect: async (id: string) => containers.find((c) => c.id === id),
    listByLabels: async () => containers,
    exec: record("exec", { exitCode: 0, stdout: "", stderr: "" }),
    inspectImage: async () => ({ id: "i", labels: {}, created: "", env: ["PATH=/usr/bin"] }),
    buildImage: record("buildImage"),
    bridgeGateway: async () => "10.88.0.1",
  } satisfies ContainerClient & ImageClient & NetworkClient;
  return { engine, calls };
}

describe("containerSpecOf", () => {
  it("turns a launch into the engine's container spec", () => {
    expect(containerSpecOf(launch)).toEqual({
      name: "wm-feat-012345",
      image: "wm-sandbox:claude",
      user: "1000:100",
      workdir: "/w/feat",
      cmd: ["claude"],
      env: { WM_SANDBOX_GUEST: "1" },
      mounts: [{ source: "/w/feat", target: "/w/feat", readOnly: false }],
      labels: { "wm.sandbox": "sb-0123456789ab" },
      tty: true,
      openStdin: false,
      pidsLimit: 64,
      memoryBytes: 1024,
      cpus: 2,
      ociRuntime: "runsc",
    } satisfies ContainerSpec);
  });
});

describe("ContainerSandboxBackend", () => {
  it("runs a sandbox as a container of its engine", async () => {
    const { engine, calls } = fakeEngine([running]);
    const b = new ContainerSandboxBackend({ containers: engine, images: engine, network: engine });
    expect(b.runtime).toBe("podman");
    const handle = await b.create(launch);
    await b.start(handle);
    await b.signal(handle, "SIGINT");
    await b.resize(handle, { rows: 40, cols: 120 });
    await b.stop(handle, 5);
    expect(await b.wait(handle)).toBe(3);
    await b.remove(handle);
    expect(calls).toEqual([
      ["create", containerSpecOf(launch)],
      ["start", "c1"],
      ["kill", "c1", "SIGINT"],
      ["resize", "c1", { rows: 40, cols: 120 }],
      ["stop", "c1", 5],
      ["wait", "c1"],
      ["remove", "c1"],
    ]);
    expect(await b.guestGateway()).toBe("10.88.0.1");
    expect(await b.imageEnv("wm-sandbox:claude")).toEqual(["PATH=/usr/bin"]);
  });

  it("reports containers in the sandbox's terms", async () => {
    const exited: ContainerInfo = { ...running, id: "c2", state: "exited", exitCode: 1 };
    const { engine } = fakeEngine([running, exited]);
    const b = new ContainerSandboxBackend({ containers: engine, images: engine, network: engine });
    expect(await b.inspect("c1")).toEqual({
      handle: "c1",
      name: "wm-feat-012345",
      image: "wm-sandbox:claude",
      running: true,
      exitCode: undefined,
      labels: { "wm.sandbox": "sb-0123456789ab" },
      address: "10.88.0.5",
    });
    expect(await b.inspect("gone")).toBeUndefined();
    expect(
      (await b.listOwned({ "wm.home": "x" })).map((s) => [s.handle, s.running, s.exitCode]),
    ).toEqual([
      ["c1", true, undefined],
      ["c2", false, 1],
    ]);
  });
});
