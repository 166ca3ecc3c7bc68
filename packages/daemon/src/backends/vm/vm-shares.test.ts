import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { exportFor, fileLinkName, missingExports, sessionScript, within } from "./vm-shares.ts";

const roots = {
  roots: [
    { hostPath: "/src/proj__worktrees", readOnly: false },
    { hostPath: "/src/proj/.git/worktrees", readOnly: false },
    { hostPath: "/src/proj/.git", readOnly: true },
  ],
  filesDir: "/state/vms/wm-proj/files",
};

describe("exportFor", () => {
  it("exports a project directory whole and binds the mount out of it", () => {
    const wt = exportFor(
      { source: "/src/proj__worktrees/a", target: "/src/proj__worktrees/a", readOnly: false },
      false,
      roots,
    );
    expect(wt.export).toMatchObject({ hostPath: "/src/proj__worktrees", readOnly: false });
    expect(wt.rel).toBe("a");
    const other = exportFor(
      { source: "/src/proj__worktrees/b", target: "/x", readOnly: false },
      false,
      roots,
    );
    expect(other.export.tag).toBe(wt.export.tag); // one export serves every worktree
  });

  it("never writes through a read-only root: a writable mount under .git (not worktrees/) is its own export", () => {
    const admin = exportFor(
      { source: "/src/proj/.git/worktrees/a", target: "/t", readOnly: false },
      false,
      roots,
    );
    expect(admin.export).toMatchObject({ hostPath: "/src/proj/.git/worktrees", readOnly: false });
    const common = exportFor(
      { source: "/src/proj/.git", target: "/t", readOnly: true },
      false,
      roots,
    );
    expect(common.export).toMatchObject({ hostPath: "/src/proj/.git", readOnly: true });
    const rw = exportFor(
      { source: "/src/proj/.git/refs", target: "/t", readOnly: false },
      false,
      roots,
    );
    expect(rw.export).toMatchObject({
      hostPath: "/src/proj/.git/refs",
      readOnly: false,
      tag: expect.stringMatching(/^x/),
    });
  });

  it("shares a single file outside every root as a link in the files export, never its directory", () => {
    const f = exportFor(
      {
        source: "/home/me/.claude-sandbox.json",
        target: "/home/agent/.claude.json",
        readOnly: false,
      },
      true,
      roots,
    );
    expect(f.export).toEqual({ tag: "files", hostPath: roots.filesDir, readOnly: false });
    expect(f.rel).toBe(fileLinkName("/home/me/.claude-sandbox.json"));
  });

  it("reports the exports a running VM lacks", () => {
    const a = { tag: "x1", hostPath: "/a", readOnly: false };
    const b = { tag: "x2", hostPath: "/b", readOnly: true };
    expect(missingExports([a], [a, b])).toEqual([b]);
    expect(missingExports([a, b], [b])).toEqual([]);
  });

  it("within() is a path relation, not a string prefix", () => {
    expect(within("/src/proj__worktrees2", "/src/proj__worktrees")).toBe(false);
    expect(within("/src/proj__worktrees/a", "/src/proj__worktrees")).toBe(true);
  });
});

describe("sessionScript", () => {
  const script = sessionScript({
    binds: [{ source: "/mnt/wm/x1/a", target: "/w/it's", readOnly: true, isFile: false }],
    endpointDir: "/run/wm-ep/s1",
    endpointTarget: "/run/wm",
    hide: ["/mnt/wm/x1"],
    cover: ["/mnt/wm", "/run/wm-ep"],
    user: { uid: 1000, gid: 1000 },
    home: "/home/agent",
    workdir: "/w/it's",
    env: { A: "b c", Q: "it's $HOME" },
    preflight: "command -v nix >/dev/null || exit 127",
    command: ["printf", "%s\\n", "$HOME", "a b"],
  });

  it("is valid sh that binds in order, drops every capability and starts the command as the user", () => {
    execFileSync("sh", ["-n", "-c", script]);
    expect(script).toContain("bind '/mnt/wm/x1/a' '/w/it'\\''s' ro dir");
    expect(script.indexOf("bind '/run/wm-ep/s1'")).toBeGreaterThan(
      script.indexOf("bind '/mnt/wm/x1/a'"),
    );
    expect(script).toContain("umount -l '/mnt/wm/x1'");
    expect(script).toMatch(
      /setpriv --reuid=1000 --regid=1000 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs/,
    );
  });

  it("passes the environment and the command's words through unchanged", () => {
    // The last line alone, with setpriv and env replaced by a printer: the words arrive as given.
    const last = script.slice(script.indexOf("exec setpriv"));
    const words = last.replace(/^exec setpriv .*? -- env -i /, "exec /usr/bin/env -i ");
    const out = execFileSync(
      "sh",
      ["-c", words.replace("command -v nix >/dev/null || exit 127", "true")],
      {
        encoding: "utf8",
      },
    );
    expect(out).toBe("$HOME\na b\n");
  });
});
