import { describe, expect, it } from "vitest";
import { methods } from "./methods/index.ts";
import {
  displaySafe,
  isUnsafeCodePoint,
  jsonSafe,
  unsafeChar,
  unsafeKind,
  unsafeTextProblem,
} from "./text.ts";

const OSC52 = "\x1b]52;c;aGk=\x07";
const ESC = "\x1b";

describe("the unsafe-character predicate", () => {
  it("names every control class, and nothing a name may hold", () => {
    expect(unsafeKind(0x00)).toBe("C0 control");
    expect(unsafeKind(0x07)).toBe("C0 control");
    expect(unsafeKind(0x1b)).toBe("C0 control");
    expect(unsafeKind(0x1f)).toBe("C0 control");
    expect(unsafeKind(0x7f)).toBe("DEL");
    expect(unsafeKind(0x80)).toBe("C1 control");
    expect(unsafeKind(0x9b)).toBe("C1 control");
    expect(unsafeKind(0x9f)).toBe("C1 control");
    for (const cp of [0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e]) {
      expect(unsafeKind(cp), cp.toString(16)).toBe("bidi control");
    }
    for (const cp of [0x2066, 0x2067, 0x2068, 0x2069]) {
      expect(unsafeKind(cp), cp.toString(16)).toBe("bidi control");
    }
    expect(unsafeKind(0x2028)).toBe("line separator");
    expect(unsafeKind(0x2029)).toBe("line separator");
    // Controls: the neighbours of each range, and text a branch name may well hold.
    for (const cp of [0x20, 0x7e, 0xa0, 0xe9, 0x202f, 0x2065, 0x206a, 0x200d, 0x1f916]) {
      expect(isUnsafeCodePoint(cp), cp.toString(16)).toBe(false);
    }
    expect(unsafeChar("feature/ünïcode-🤖#1")).toBeUndefined();
  });

  it("finds the first offending character and says which it is", () => {
    expect(unsafeChar(`a${OSC52}b`)).toBe(ESC);
    expect(unsafeChar("x\u202ey")).toBe("\u202e");
    expect(unsafeTextProblem(`a${OSC52}b`)).toMatch(/U\+001B, a control character/);
    expect(unsafeTextProblem("x\u202ey")).toMatch(/U\+202E, a bidirectional formatting/);
    expect(unsafeTextProblem("del\x7f")).toMatch(/U\+007F, a DEL character/);
    expect(unsafeTextProblem("csi\u009b2J")).toMatch(/U\+009B, a control character/);
    expect(unsafeTextProblem("clean/name")).toBeUndefined();
  });
});

describe("displaySafe", () => {
  it("shows an OSC 52 clipboard write as inert text", () => {
    const shown = displaySafe(`a${OSC52}b`);
    expect(shown).toBe("a\\x1b]52;c;aGk=\\x07b");
    expect(shown).not.toContain(ESC);
    expect(shown).not.toContain("\x07");
  });

  it("escapes each class: C0, CSI in 7 and 8 bits, DEL, bidi, line breaks", () => {
    expect(displaySafe("\x1b[2J\x1b[H")).toBe("\\x1b[2J\\x1b[H");
    expect(displaySafe("bell\x07 bs\x08 nul\x00")).toBe("bell\\x07 bs\\x08 nul\\x00");
    expect(displaySafe("\u009b31m")).toBe("\\x9b31m");
    expect(displaySafe("\u0085\u009d")).toBe("\\x85\\x9d");
    expect(displaySafe("del\x7f")).toBe("del\\x7f");
    expect(displaySafe("x\u202ey")).toBe("x\\u202ey");
    expect(displaySafe("\u2066a\u2069\u200f\u061c")).toBe("\\u2066a\\u2069\\u200f\\u061c");
    expect(displaySafe("one\ntwo\rthree\tfour")).toBe("one\\ntwo\\rthree\\tfour");
    expect(displaySafe("a\u2028b")).toBe("a\\u2028b");
  });

  it("keeps newlines and tabs in multiline text, and nothing else", () => {
    expect(displaySafe(`line one\n\tline ${OSC52}two\r`, { multiline: true })).toBe(
      "line one\n\tline \\x1b]52;c;aGk=\\x07two\\r",
    );
  });

  it("leaves clean text alone and is idempotent", () => {
    const clean = "feature/ünïcode 🤖 #1 (x) \\x1b";
    expect(displaySafe(clean)).toBe(clean);
    const once = displaySafe(`a${OSC52}\u202eb\n`);
    expect(displaySafe(once)).toBe(once);
  });
});

describe("jsonSafe", () => {
  it("keeps the JSON's meaning and leaves no terminal control in it", () => {
    const value = { message: `hi${OSC52}\u009b2J\u202e\x7f\u2028`, list: ["a\nb"] };
    const raw = JSON.stringify(value, null, 2);
    // Control: JSON.stringify escapes C0 itself but leaves C1, DEL and bidi characters raw.
    expect(raw).toContain("\u009b");
    expect(raw).toContain("\u202e");
    const safe = jsonSafe(raw);
    expect(unsafeChar(safe.replaceAll("\n", ""))).toBeUndefined();
    expect(safe).toContain("\\u009b");
    expect(safe).toContain("\\u202e");
    expect(JSON.parse(safe)).toEqual(value);
  });
});

describe("guest names in the protocol schema", () => {
  const spawn = methods["agent.spawn"].params;
  const merge = methods["agent.merge"].params;

  it("refuses controls in agent.spawn branch and base, naming the parameter", () => {
    for (const [params, key] of [
      [{ branch: `a${OSC52}b` }, "branch"],
      [{ branch: "x\u202ey" }, "branch"],
      [{ branch: "ok", base: "main\x1b[2J" }, "base"],
    ] as const) {
      const res = spawn.safeParse(params);
      expect(res.success, JSON.stringify(params)).toBe(false);
      expect(res.error?.issues[0]?.path).toEqual([key]);
      expect(res.error?.issues[0]?.message).toMatch(/U\+(001B|202E)/);
    }
    // Control: the same requests with clean names pass.
    expect(spawn.safeParse({ branch: "ab" }).success).toBe(true);
    expect(spawn.safeParse({ branch: "xy", base: "main" }).success).toBe(true);
  });

  it("refuses controls in agent.merge name and into", () => {
    expect(merge.safeParse({ name: "n\u0085" }).error?.issues[0]?.path).toEqual(["name"]);
    expect(merge.safeParse({ into: "main\u2067" }).error?.issues[0]?.path).toEqual(["into"]);
    expect(merge.safeParse({ name: "n", into: "main" }).success).toBe(true);
  });
});
