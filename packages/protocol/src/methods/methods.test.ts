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
});
