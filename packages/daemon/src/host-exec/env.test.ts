import { RpcError } from "@wm/protocol";
import { describe, expect, it } from "vitest";
import {
  checkGuestEnv,
  droppedReason,
  GUEST_ENV_ALLOWED,
  hostExecEnv,
  hostExecEnvWithDropped,
} from "./env.ts";

function refusal(env: Record<string, string>): RpcError {
  try {
    checkGuestEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(RpcError);
    return err as RpcError;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe("checkGuestEnv", () => {
  it("accepts terminal and locale variables", () => {
    const env = Object.fromEntries(GUEST_ENV_ALLOWED.map((n) => [n, "x"]));
    expect(() => checkGuestEnv(env)).not.toThrow();
    expect(() => checkGuestEnv({})).not.toThrow();
  });

  it("refuses injectors by name, saying they change what the host tool runs", () => {
    for (const name of [
      "LD_PRELOAD",
      "LD_LIBRARY_PATH",
      "DYLD_INSERT_LIBRARIES",
      "NODE_OPTIONS",
      "GIT_SSH_COMMAND",
      "GIT_CONFIG_PARAMETERS",
      "BASH_ENV",
      "ENV",
      "PYTHONPATH",
      "PYTHONSTARTUP",
      "PERL5LIB",
      "PERL5OPT",
      "RUBYOPT",
      "RUBYLIB",
      "JAVA_TOOL_OPTIONS",
      "_JAVA_OPTIONS",
      "PAGER",
      "EDITOR",
      "PROMPT_COMMAND",
      "IFS",
    ]) {
      const err = refusal({ TERM: "xterm", [name]: "x" });
      expect(err.is("InvalidParams")).toBe(true);
      expect(err.message).toContain(`"${name}" can change what the host tool runs`);
      expect(err.message).toContain("a sandbox may send only TERM, COLORTERM");
    }
  });

  it("refuses any other name, listing the accepted ones", () => {
    for (const name of ["PATH", "HOME", "SSH_AUTH_SOCK", "term", "AWS_SECRET_ACCESS_KEY"]) {
      const err = refusal({ [name]: "x" });
      expect(err.is("InvalidParams")).toBe(true);
      expect(err.message).toContain(`"${name}" is not accepted for host commands`);
      expect(err.message).toContain("TZ");
    }
  });

  it("refuses values with NUL or over 4 KiB", () => {
    expect(refusal({ TERM: "xterm\0LD_PRELOAD=x" }).message).toContain("TERM");
    expect(refusal({ TERM: "x".repeat(4097) }).message).toContain("longer than 4096 bytes");
    expect(() => checkGuestEnv({ TERM: "x".repeat(4096) })).not.toThrow();
    expect(refusal({ TERM: "é".repeat(2049) }).message).toContain("4096 bytes");
  });
});

describe("hostExecEnv", () => {
  const daemonEnv = {
    PATH: "/usr/bin:/bin",
    HOME: "/root-of-daemon",
    USER: "u",
    LOGNAME: "u",
    SHELL: "/bin/zsh",
    LANG: "C.UTF-8",
    LC_TIME: "en_GB.UTF-8",
    TZ: "Europe/Paris",
    TMPDIR: "/var/folders/x",
    LD_PRELOAD: "/evil.so",
    GIT_DIR: "/elsewhere",
    SSH_AUTH_SOCK: "/run/user/1000/ssh",
    GITHUB_TOKEN: "ghp_x",
    AWS_SECRET_ACCESS_KEY: "secret",
    NPM_TOKEN: "npm_x",
    UNSET: undefined,
  };
  const base = { daemonEnv, home: "/home/u", guestEnv: {}, passthrough: [], sandboxEnv: {} };

  it("takes only a fixed allow-list from the daemon, with HOME and TMPDIR set", () => {
    expect(hostExecEnv(base)).toEqual({
      PATH: "/usr/bin:/bin",
      HOME: "/home/u",
      USER: "u",
      LOGNAME: "u",
      LANG: "C.UTF-8",
      LC_TIME: "en_GB.UTF-8",
      TZ: "Europe/Paris",
      TMPDIR: "/tmp",
    });
  });

  it("adds the guest's allowed variables over the daemon's locale, and nothing else it sends", () => {
    const env = hostExecEnv({
      ...base,
      guestEnv: { TERM: "xterm-256color", LANG: "fr_FR.UTF-8", LD_PRELOAD: "/x.so", PATH: "/w" },
    });
    expect(env.TERM).toBe("xterm-256color");
    expect(env.LANG).toBe("fr_FR.UTF-8");
    expect(env.LD_PRELOAD).toBeUndefined();
    expect(env.PATH).toBe("/usr/bin:/bin");
  });

  it("passes env_passthrough and sandbox.env, later ones winning", () => {
    const env = hostExecEnv({
      ...base,
      passthrough: ["GITHUB_TOKEN", "NPM_TOKEN", "NOT_SET"],
      sandboxEnv: { NPM_TOKEN: "from-config", RUST_LOG: "debug" },
    });
    expect(env).toMatchObject({
      GITHUB_TOKEN: "ghp_x",
      NPM_TOKEN: "from-config",
      RUST_LOG: "debug",
    });
    expect("NOT_SET" in env).toBe(false);
    expect(env.AWS_SECRET_ACCESS_KEY).toBeUndefined();
  });

  it("drops injectors, host sockets and wm's fixed names even from the user's own settings", () => {
    const { env, dropped } = hostExecEnvWithDropped({
      ...base,
      passthrough: ["LD_PRELOAD", "GIT_DIR", "SSH_AUTH_SOCK", "GITHUB_TOKEN"],
      sandboxEnv: {
        NODE_OPTIONS: "--require /x.js",
        GIT_SSH_COMMAND: "sh",
        PAGER: "sh",
        DOCKER_HOST: "tcp://127.0.0.1:2375",
        PATH: "/opt/container/bin",
        HOME: "/elsewhere",
        TMPDIR: "/var/tmp",
        WITH_NUL: "a\0b",
        OK: "yes",
      },
    });
    expect(dropped).toEqual([
      "LD_PRELOAD",
      "GIT_DIR",
      "SSH_AUTH_SOCK",
      "NODE_OPTIONS",
      "GIT_SSH_COMMAND",
      "PAGER",
      "DOCKER_HOST",
      "PATH",
      "HOME",
      "TMPDIR",
      "WITH_NUL",
    ]);
    expect(env).toMatchObject({
      PATH: "/usr/bin:/bin",
      HOME: "/home/u",
      TMPDIR: "/tmp",
      OK: "yes",
    });
    expect(env.GITHUB_TOKEN).toBe("ghp_x");
    expect(Object.keys(env).filter((n) => n.startsWith("GIT_") || n.startsWith("LD_"))).toEqual([]);
    expect(droppedReason("LD_AUDIT")).toBe("can change what the host tool runs");
    expect(droppedReason("DBUS_SESSION_BUS_ADDRESS")).toContain("host service");
    expect(droppedReason("RUST_LOG")).toBeUndefined();
  });
});
