import { describe, expect, it } from "vitest";
import { guardArgs, UnsafeGitCommandError } from "./safe-subcommands.ts";

describe("stash: only `stash create`", () => {
  it("allows stash create", () => {
    expect(guardArgs(["stash", "create"])).toEqual(["stash", "create"]);
  });
  it.each([[["stash"]], [["stash", "push"]], [["stash", "pop"]], [["stash", "create", "msg"]]])(
    "refuses %j",
    (args) => {
      expect(() => guardArgs(args)).toThrow(UnsafeGitCommandError);
    },
  );
});

describe("fetch: a path or an https/http/file URL, never a remote name", () => {
  it.each([
    [["fetch", "--quiet", "/tmp/shadow", "abc"]],
    [
      [
        "fetch",
        "--quiet",
        "--",
        "https://example.invalid/r.git",
        "refs/pull/7/head:refs/heads/pr-7",
      ],
    ],
    [["fetch", "file:///srv/r.git", "x"]],
  ])("allows %j with the guards", (args) => {
    expect(guardArgs(args).slice(0, 4)).toEqual([
      "fetch",
      "--no-auto-maintenance",
      "--no-recurse-submodules",
      "--no-tags",
    ]);
  });
  it.each([
    [["fetch", "origin", "refs/pull/7/head:refs/heads/pr-7"]],
    [["fetch", "--", "origin"]],
    [["fetch", "ssh://host/r.git"]],
    [["fetch", "ext::sh -c evil"]],
    [["fetch", "--quiet"]],
  ])("refuses %j", (args) => {
    expect(() => guardArgs(args)).toThrow(/never a remote name/);
  });
});
