import { describe, expect, it } from "vitest";
import { capBytes, parseNameStatus, parseNumstat } from "./diff-files.ts";

describe("worktree diff parsing", () => {
  it("reads name-status records, renames with both paths", () => {
    expect(parseNameStatus("M\0a.txt\0R087\0old name\0new\nname\0D\0gone\0A\0-dash\0")).toEqual([
      { path: "a.txt", oldPath: null, status: "modified" },
      { path: "new\nname", oldPath: "old name", status: "renamed" },
      { path: "gone", oldPath: null, status: "deleted" },
      { path: "-dash", oldPath: null, status: "added" },
    ]);
  });

  it("reads numstat records by current path; binary counts are null", () => {
    const counts = parseNumstat("3\t1\ta.txt\0-\t-\tpic.png\0" + "2\t0\t\0old\0new\0");
    expect(counts.get("a.txt")).toEqual({ additions: 3, deletions: 1 });
    expect(counts.get("pic.png")).toEqual({ additions: null, deletions: null });
    expect(counts.get("new")).toEqual({ additions: 2, deletions: 0 });
  });

  it("cuts a patch at a byte limit on a character boundary and says so", () => {
    expect(capBytes("abc", 3)).toEqual({ text: "abc", truncated: false });
    expect(capBytes("aé", 2)).toEqual({ text: "a", truncated: true });
  });
});
