import { describe, expect, it } from "vitest";
import {
  type PathContext,
  resolvePaths,
  SocketPathTooLongError,
  socketPathLimit,
} from "./paths.ts";

const base: PathContext = {
  env: {},
  platform: "linux",
  uid: 1000,
  homedir: "/home/ada",
  tmpdir: "/tmp",
};

describe("resolvePaths", () => {
  it("uses $XDG_RUNTIME_DIR/wm for the socket", () => {
    const p = resolvePaths({ ...base, env: { XDG_RUNTIME_DIR: "/run/user/1000" } });
    expect(p.socketPath).toBe("/run/user/1000/wm/daemon.sock");
    expect(p.registrationFile).toBe("/run/user/1000/wm/daemon.json");
    expect(p.runtimeDirSource).toBe("XDG_RUNTIME_DIR");
  });

  it("lets WM_RUNTIME_DIR override everything", () => {
    const p = resolvePaths({
      ...base,
      env: { XDG_RUNTIME_DIR: "/run/user/1000", WM_RUNTIME_DIR: "/srv/wm/" },
    });
    expect(p.runtimeDir).toBe("/srv/wm");
    expect(p.socketPath).toBe("/srv/wm/daemon.sock");
    expect(p.runtimeDirSource).toBe("WM_RUNTIME_DIR");
  });

  it("falls back to a per-uid directory under tmpdir", () => {
    const p = resolvePaths(base);
    expect(p.runtimeDir).toBe("/tmp/wm-1000");
    expect(p.runtimeDirSource).toBe("fallback");
  });

  it("ignores relative and empty values", () => {
    const p = resolvePaths({
      ...base,
      env: { XDG_RUNTIME_DIR: "", WM_RUNTIME_DIR: "relative/dir", XDG_STATE_HOME: "x" },
    });
    expect(p.runtimeDir).toBe("/tmp/wm-1000");
    expect(p.logFile).toBe("/home/ada/.local/state/wm/daemon.log");
  });

  it("honours XDG_STATE_HOME and XDG_CONFIG_HOME", () => {
    const p = resolvePaths({ ...base, env: { XDG_STATE_HOME: "/s", XDG_CONFIG_HOME: "/c" } });
    expect(p.logFile).toBe("/s/wm/daemon.log");
    expect(p.configDir).toBe("/c/workmux");
  });

  it("enforces 107 bytes on Linux and 103 on macOS, and says what to set", () => {
    expect(socketPathLimit("linux")).toBe(107);
    expect(socketPathLimit("darwin")).toBe(103);
    const dirFor = (total: number) => `/${"d".repeat(total - "/daemon.sock".length - 1)}`;
    expect(resolvePaths({ ...base, env: { WM_RUNTIME_DIR: dirFor(107) } }).socketPath).toHaveLength(
      107,
    );
    expect(() => resolvePaths({ ...base, env: { WM_RUNTIME_DIR: dirFor(108) } })).toThrow(
      SocketPathTooLongError,
    );
    expect(() =>
      resolvePaths({ ...base, platform: "darwin", env: { WM_RUNTIME_DIR: dirFor(104) } }),
    ).toThrow(/104 bytes, over the 103-byte limit.*WM_RUNTIME_DIR/);
  });

  it("counts bytes, not characters", () => {
    const dir = `/${"é".repeat(50)}`;
    expect(() => resolvePaths({ ...base, env: { WM_RUNTIME_DIR: dir } })).toThrow(
      SocketPathTooLongError,
    );
  });
});
