import { describe, expect, it } from "vitest";
import { fakeHost } from "./fake-host.ts";
import {
  checkBubblewrap,
  checkDebootstrap,
  checkGit,
  checkTmux,
  parseGitVersion,
} from "./tools.ts";
import type { DoctorContext } from "./types.ts";

function ctx(host: Parameters<typeof fakeHost>[0]): DoctorContext {
  return fakeHost(host);
}

describe("tmux", () => {
  it("is ok with its version, and fails when missing or broken", async () => {
    expect(await checkTmux(ctx({ binaries: { tmux: "tmux 3.3a" } }))).toEqual({
      name: "tmux",
      status: "ok",
      detail: "tmux 3.3a",
    });
    expect(await checkTmux(ctx({}))).toMatchObject({
      status: "fail",
      fix: expect.stringContaining("tmux"),
    });
    expect((await checkTmux(ctx({ binaries: { tmux: null } }))).status).toBe("fail");
  });

  it("fails when tmux is only outside the daemon's PATH, where the daemon does not look", async () => {
    const check = await checkTmux(
      ctx({ binaries: { tmux: "tmux 3.3a" }, env: { PATH: "/home/u/bin:/usr/local/bin" } }),
    );
    expect(check).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("not on the daemon's PATH (/home/u/bin:/usr/local/bin)"),
      fix: expect.stringContaining("wm daemon restart"),
    });
    const missing = await checkTmux(ctx({ env: { PATH: "/home/u/bin" } }));
    expect(missing.detail).toContain("not on the daemon's PATH: /home/u/bin");
    const git = await checkGit(
      ctx({ binaries: { git: "git version 2.39.5" }, env: { PATH: "/usr/local/bin/" } }),
    );
    expect(git.status).toBe("fail");
    const onPath = await checkGit(
      ctx({ binaries: { git: "git version 2.39.5" }, env: { PATH: "/x:/fake/bin/" } }),
    );
    expect(onPath.status).toBe("ok");
  });

  it("asks tmux for -V, which is its version flag", async () => {
    const host = ctx({ binaries: { tmux: "tmux 3.3a" } });
    const calls: string[] = [];
    const exec: DoctorContext["exec"] = (file, args, timeoutMs) => {
      calls.push(args.join(" "));
      return host.exec(file, args, timeoutMs);
    };
    await checkTmux({ ...host, exec });
    expect(calls).toEqual(["-V"]);
  });
});

describe("git", () => {
  it("parses versions", () => {
    expect(parseGitVersion("git version 2.39.5")).toEqual([2, 39, 5]);
    expect(parseGitVersion("git version 2.38.0.windows.1")).toEqual([2, 38, 0]);
    expect(parseGitVersion("git version 3.0")).toEqual([3, 0, 0]);
    expect(parseGitVersion("nonsense")).toBeUndefined();
  });

  it("is ok from 2.38, warns below, fails when missing", async () => {
    expect((await checkGit(ctx({ binaries: { git: "git version 2.38.0" } }))).status).toBe("ok");
    const old = await checkGit(ctx({ binaries: { git: "git version 2.37.1" } }));
    expect(old).toMatchObject({ status: "warn", fix: "upgrade git to 2.38 or newer" });
    expect((await checkGit(ctx({}))).status).toBe("fail");
  });
});

describe("bubblewrap and debootstrap", () => {
  it("are ok when present", async () => {
    const host = ctx({
      binaries: { bwrap: "bubblewrap 0.8.0", debootstrap: "debootstrap 1.0.128" },
    });
    expect(await checkBubblewrap(host)).toMatchObject({ status: "ok", detail: "bubblewrap 0.8.0" });
    expect(await checkDebootstrap(host)).toMatchObject({
      status: "ok",
      detail: "debootstrap 1.0.128",
    });
  });

  it("warn with the reason when missing", async () => {
    const bwrap = await checkBubblewrap(ctx({}));
    expect(bwrap).toMatchObject({
      status: "warn",
      fix: "sudo apt-get install -y bubblewrap (Debian/Ubuntu)",
    });
    expect(bwrap.detail).toContain("host commands will not be isolated");
    const deboot = await checkDebootstrap(ctx({}));
    expect(deboot.status).toBe("warn");
    expect(deboot.detail).toContain("offline image build");
  });

  it("bubblewrap warns when it is installed but cannot build a sandbox for this user", async () => {
    const host = ctx({ binaries: { bwrap: "bubblewrap 0.8.0" } });
    const exec: DoctorContext["exec"] = async (file, args, timeoutMs) =>
      args[0] === "--version"
        ? host.exec(file, args, timeoutMs)
        : { code: 1, stdout: "", stderr: "bwrap: setting up uid map: Permission denied\n" };
    const check = await checkBubblewrap({ ...host, exec });
    expect(check).toMatchObject({
      status: "warn",
      fix: expect.stringContaining("user namespaces"),
    });
    expect(check.detail).toContain("setting up uid map: Permission denied");
    expect(check.detail).toContain("host commands will not be isolated");
  });

  it("explain that both are Linux-only on macOS", async () => {
    const mac = ctx({ platform: "darwin" });
    expect((await checkBubblewrap(mac)).detail).toContain("Linux-only");
    expect((await checkDebootstrap(mac)).detail).toContain("Linux-only");
  });
});
