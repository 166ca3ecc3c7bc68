import { describe, expect, it } from "vitest";
import { createWhich } from "../doctor/host-probes.ts";
import type { Exec, ExecResult } from "../doctor/types.ts";
import { probeBubblewrap } from "./probe.ts";

const which = async (c: string) => (c === "bwrap" ? "/usr/bin/bwrap" : undefined);

function execAnswering(trial: ExecResult, calls: string[] = []): Exec {
  return async (_file, args) => {
    calls.push(args.join(" "));
    if (args[0] === "--version") return { code: 0, stdout: "bubblewrap 0.8.0\n", stderr: "" };
    return trial;
  };
}

describe("probeBubblewrap", () => {
  it("reports a missing bwrap", async () => {
    expect(await probeBubblewrap(async () => undefined)).toEqual({
      path: null,
      userns: false,
      detail: "bwrap is not installed",
    });
  });

  it("runs a real trial sandbox, not only --version", async () => {
    const calls: string[] = [];
    const probe = await probeBubblewrap(
      which,
      execAnswering({ code: 0, stdout: "", stderr: "" }, calls),
    );
    expect(probe).toEqual({
      path: "/usr/bin/bwrap",
      userns: true,
      version: "bubblewrap 0.8.0",
      detail: "bubblewrap 0.8.0 works for this user",
    });
    expect(calls).toContain("--ro-bind / / --unshare-pid --die-with-parent -- true");
  });

  it("explains disabled user namespaces", async () => {
    for (const stderr of [
      "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces.",
      "bwrap: setting up uid map: Permission denied",
    ]) {
      const probe = await probeBubblewrap(which, execAnswering({ code: 1, stdout: "", stderr }));
      expect(probe.userns).toBe(false);
      expect(probe.version).toBe("bubblewrap 0.8.0");
      expect(probe.detail).toContain(stderr);
      expect(probe.detail).toContain("kernel.unprivileged_userns_clone");
      expect(probe.detail).toContain("apparmor_restrict_unprivileged_userns");
    }
  });

  it("reports other failures as they are", async () => {
    const probe = await probeBubblewrap(
      which,
      execAnswering({ code: null, stdout: "", stderr: "", error: "timed out after 3000 ms" }),
    );
    expect(probe).toMatchObject({ userns: false });
    expect(probe.detail).toBe(
      "/usr/bin/bwrap cannot build a sandbox for this user: timed out after 3000 ms",
    );
  });

  it("works on this machine", async () => {
    const probe = await probeBubblewrap(createWhich(process.env));
    if (process.env.CI === "true" || probe.path !== null) {
      expect(probe, probe.detail).toMatchObject({ userns: true });
      expect(probe.version).toMatch(/^bubblewrap \d/);
    }
  });
});
