import { describe, expect, it } from "vitest";
import { PeerGate } from "./peer-gate.ts";

describe("PeerGate", () => {
  it("holds a request until the container's address is known, then serves only it", async () => {
    const gate = new PeerGate();
    expect(gate.refuses("172.17.0.5")).toBe(false);
    const early = gate.admits("::ffff:172.17.0.5", 60_000);
    const stranger = gate.admits("172.17.0.9", 60_000);
    gate.admit(["172.17.0.5"]);
    expect(await early).toBe(true);
    expect(await stranger).toBe(false);
    expect(gate.refuses("172.17.0.9")).toBe(true);
    expect(gate.refuses(undefined)).toBe(true);
  });

  it("refuses when the address never becomes known within the deadline", async () => {
    expect(await new PeerGate().admits("172.17.0.5", 1)).toBe(false);
  });

  it("serves any peer where the engine reports no address", async () => {
    const gate = new PeerGate();
    gate.admit("any");
    expect(await gate.admits("10.0.2.100", 1)).toBe(true);
    expect(gate.refuses("10.0.2.100")).toBe(false);
  });
});
