import { describe, expect, it } from "vitest";
import type { ContainerSpec } from "../types.ts";
import { checkSpec, toCreateOptions } from "./create-options.ts";

const spec: ContainerSpec = {
  name: "wm-abc",
  image: "wm-sandbox:demo",
  user: "1000:1000",
  workdir: "/work/repo",
  cmd: ["wm-demo-agent"],
  env: { WM_SANDBOX_GUEST: "1" },
  mounts: [
    { source: "/work/repo", target: "/work/repo", readOnly: false },
    { source: "/work/repo/.git", target: "/work/repo/.git", readOnly: true },
  ],
  labels: { "wm.sandbox": "sb-1" },
  tty: true,
  openStdin: true,
  pidsLimit: 512,
  memoryBytes: 2 ** 30,
  cpus: 1.5,
  capAdd: ["CHOWN"],
  securityOpt: ["no-new-privileges", "seccomp=unconfined"],
  extraHosts: ["host.docker.internal:host-gateway"],
};

describe("toCreateOptions", () => {
  it("maps the spec and always hardens the container", () => {
    const o = toCreateOptions(spec);
    expect(o).toMatchObject({
      name: "wm-abc",
      Image: "wm-sandbox:demo",
      User: "1000:1000",
      WorkingDir: "/work/repo",
      Env: ["WM_SANDBOX_GUEST=1"],
      Tty: true,
      OpenStdin: true,
      StdinOnce: false,
    });
    expect(o.HostConfig).toMatchObject({
      CapDrop: ["ALL"],
      CapAdd: ["CHOWN"],
      SecurityOpt: ["no-new-privileges", "seccomp=unconfined"],
      Privileged: false,
      PidsLimit: 512,
      Memory: 2 ** 30,
      NanoCpus: 1_500_000_000,
      Init: true,
      ExtraHosts: ["host.docker.internal:host-gateway"],
    });
    expect(o.HostConfig?.Mounts?.map((m) => [m.Target, m.ReadOnly, m.Type])).toEqual([
      ["/work/repo", false, "bind"],
      ["/work/repo/.git", true, "bind"],
    ]);
    expect(o.HostConfig?.NetworkMode).toBeUndefined();
    expect(o.HostConfig?.Runtime).toBeUndefined();
    expect(o.HostConfig?.PidMode).toBeUndefined();
  });

  it("runs it with the OCI runtime the spec names", () => {
    expect(toCreateOptions({ ...spec, ociRuntime: "runsc" }).HostConfig?.Runtime).toBe("runsc");
  });

  it("closes stdin on EOF only without a terminal", () => {
    expect(toCreateOptions({ ...spec, tty: false }).StdinOnce).toBe(true);
    expect(toCreateOptions({ ...spec, openStdin: false }).StdinOnce).toBe(false);
  });
});

describe("checkSpec", () => {
  const sockets = ["/var/run/docker.sock", "/run/docker.sock"];
  it("accepts an ordinary spec", () => {
    expect(() => checkSpec(spec, sockets)).not.toThrow();
  });
  it.each([
    ["/var/run/docker.sock", "engine socket"],
    ["/run", "engine socket"],
    ["/", "engine socket"],
  ])("refuses a mount of %s", (source, message) => {
    const bad = { ...spec, mounts: [{ source, target: "/x", readOnly: true }] };
    expect(() => checkSpec(bad, sockets)).toThrow(message);
  });
  it("refuses relative paths, another container's network and a named user", () => {
    const rel = { ...spec, mounts: [{ source: "repo", target: "/x", readOnly: true }] };
    expect(() => checkSpec(rel, sockets)).toThrow("absolute");
    expect(() => checkSpec({ ...spec, networkMode: "container:abc" }, sockets)).toThrow(
      "another container",
    );
    expect(() => checkSpec({ ...spec, user: "root" }, sockets)).toThrow("uid:gid");
  });
});
