/*
 * Contract tests of the instance document wm gives `limactl create`: the field names and values
 * are those of Lima v2.2.0's templates/default.yaml; no Lima reads them here.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEFAULT_SYSTEM_PROVISION, limaInstanceYaml, limaSize } from "./lima-config.ts";

const BASE = {
  image: {
    location: "https://cloud.debian.org/images/debian-12-genericcloud-amd64.qcow2",
    arch: "x86_64" as const,
  },
  mounts: [
    {
      hostPath: "/home/me/repo__worktrees/a",
      guestPath: "/home/me/repo__worktrees/a",
      writable: true,
    },
    { hostPath: "/home/me/repo/.git", guestPath: "/home/me/repo/.git", writable: false },
  ],
};

describe("limaInstanceYaml (contract)", () => {
  it("writes Lima's fields: VM size, 9p mounts as asked, no forwards, containerd off", () => {
    const doc = parse(
      limaInstanceYaml({ ...BASE, cpus: 2, memory: "8G", disk: "100GiB", provision: "echo hi\n" }),
    );
    expect(doc).toEqual({
      minimumLimaVersion: "1.0.0",
      vmType: "qemu",
      images: [{ location: BASE.image.location, arch: "x86_64" }],
      cpus: 2,
      memory: "8GiB",
      disk: "100GiB",
      mountType: "9p",
      mounts: [
        {
          location: "/home/me/repo__worktrees/a",
          mountPoint: "/home/me/repo__worktrees/a",
          writable: true,
        },
        { location: "/home/me/repo/.git", mountPoint: "/home/me/repo/.git", writable: false },
      ],
      ssh: {
        loadDotSSHPubKeys: false,
        forwardAgent: false,
        forwardX11: false,
        forwardX11Trusted: false,
      },
      containerd: { system: false, user: false },
      portForwards: [{ guestIP: "0.0.0.0", guestIPMustBeZero: false, proto: "any", ignore: true }],
      propagateProxyEnv: false,
      provision: [
        { mode: "system", script: DEFAULT_SYSTEM_PROVISION },
        { mode: "user", script: "echo hi\n" },
      ],
    });
  });

  it("inherits no base template (no home mount from Lima's default)", () => {
    const doc = parse(limaInstanceYaml(BASE));
    expect(doc.base).toBeUndefined();
    expect(doc.mounts.map((m: { location: string }) => m.location)).not.toContain("~");
  });

  it("skip_default_provision leaves out wm's system script; no script, no user entry", () => {
    expect(parse(limaInstanceYaml({ ...BASE, skipDefaultProvision: true })).provision).toEqual([]);
    expect(
      parse(limaInstanceYaml({ ...BASE, skipDefaultProvision: true, provision: "make setup" }))
        .provision,
    ).toEqual([{ mode: "user", script: "make setup" }]);
  });

  it("leaves cpus, memory and disk to Lima when unset", () => {
    const doc = parse(limaInstanceYaml(BASE));
    expect(doc).not.toHaveProperty("cpus");
    expect(doc).not.toHaveProperty("memory");
    expect(doc).not.toHaveProperty("disk");
  });

  it("writes wm sizes in Lima's binary units", () => {
    expect(limaSize("4GiB")).toBe("4GiB");
    expect(limaSize("8G")).toBe("8GiB");
    expect(limaSize("512m")).toBe("512MiB");
    expect(limaSize("1536M")).toBe("1536MiB");
    expect(limaSize("2T")).toBe("2TiB");
    expect(limaSize("1GB")).toBe("1000000000");
    expect(limaSize("64k")).toBe("64KiB");
  });
});
