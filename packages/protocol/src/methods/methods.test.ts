import { describe, expect, it } from "vitest";
import { isMethodName, methods, methodsFor } from "./index.ts";

describe("method table", () => {
  it("declares every method with a summary and at least one surface", () => {
    for (const [name, spec] of Object.entries(methods)) {
      expect(name).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
      expect(spec.summary.length).toBeGreaterThan(10);
      expect(spec.surfaces.length).toBeGreaterThan(0);
    }
  });

  it("rejects unknown params keys on host methods", () => {
    expect(methods["daemon.status"].params.safeParse({ extra: 1 }).success).toBe(false);
  });

  it("does not treat prototype keys as methods", () => {
    expect(isMethodName("constructor")).toBe(false);
    expect(isMethodName("toString")).toBe(false);
  });

  it("exposes no host method on the guest surface", () => {
    expect(methodsFor("guest")).not.toContain("daemon.shutdown");
    expect(methodsFor("guest")).not.toContain("config.get");
  });

  it("worktree.send takes text, or keys: literal text and fixed key names only", () => {
    const send = methods["worktree.send"].params;
    const base = { cwd: "/r", name: "w" };
    expect(send.safeParse({ ...base, text: "hi" }).success).toBe(true);
    expect(send.safeParse({ ...base, keys: [{ text: "hi" }, { key: "C-c" }] }).success).toBe(true);
    expect(send.safeParse({ ...base, keys: [{ key: "send-keys -t x" }] }).success).toBe(false);
    expect(send.safeParse({ ...base, keys: [{ text: "\u001b[A" }] }).success).toBe(false);
    expect(send.safeParse({ ...base, text: "a", keys: [{ key: "Enter" }] }).success).toBe(false);
    expect(send.safeParse(base).success).toBe(false);
  });

  it("worktree.diff refuses an absolute path and a .. segment", () => {
    const diff = methods["worktree.diff"].params;
    const base = { cwd: "/r", name: "w" };
    expect(diff.safeParse({ ...base, path: "src/a..b.ts" }).success).toBe(true);
    expect(diff.safeParse({ ...base, path: "/etc/passwd" }).success).toBe(false);
    expect(diff.safeParse({ ...base, path: "src/../../x" }).success).toBe(false);
  });
});
