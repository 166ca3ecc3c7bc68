import { describe, expect, it } from "vitest";
import { type DashboardView, renderFrame } from "./render.ts";
import { detectMode, painterOf, resolvePalette, SCHEME_NAMES, sgrOf } from "./theme.ts";

describe("theme palette", () => {
  it("has workmux's twelve schemes, each distinct in dark and light", () => {
    expect(SCHEME_NAMES).toHaveLength(12);
    const seen = new Set<string>();
    for (const scheme of SCHEME_NAMES) {
      for (const mode of ["dark", "light"]) {
        const p = resolvePalette({ scheme, mode }, {});
        seen.add(JSON.stringify(p));
      }
    }
    expect(seen.size).toBe(24);
  });

  it("defaults to the default scheme in dark mode; COLORFGBG with a light background picks light", () => {
    expect(resolvePalette(undefined, {})?.text).toBe("#cdd6f4");
    expect(resolvePalette({}, { COLORFGBG: "0;15" })?.text).toBe("#4c4f69");
    expect(resolvePalette({}, { COLORFGBG: "15;default;0" })?.text).toBe("#cdd6f4");
    expect(detectMode({ COLORFGBG: "0;7" })).toBe("light");
    expect(detectMode({ COLORFGBG: "junk" })).toBe("dark");
    expect(resolvePalette({ mode: "dark" }, { COLORFGBG: "0;15" })?.text).toBe("#cdd6f4");
  });

  it("applies custom colours (canonical names and aliases) over the scheme", () => {
    const p = resolvePalette(
      { scheme: "emberforge", mode: "light", custom: { accent: "red", fg: "#123456", error: "9" } },
      {},
    );
    expect(p?.accent).toBe("red");
    expect(p?.text).toBe("#123456");
    expect(p?.danger).toBe("9");
    expect(p?.header).toBe("#aa641e");
  });

  it("falls back to the default scheme for an unknown name; NO_COLOR turns colours off", () => {
    expect(resolvePalette({ scheme: "nope" }, {})).toEqual(resolvePalette(undefined, {}));
    expect(resolvePalette({ scheme: "emberforge" }, { NO_COLOR: "1" })).toBeNull();
  });

  it("turns colour strings into SGR parameters", () => {
    expect(sgrOf("#ff00aa", "fg")).toBe("38;2;255;0;170");
    expect(sgrOf("#f0a", "bg")).toBe("48;2;255;0;170");
    expect(sgrOf("244", "fg")).toBe("38;5;244");
    expect(sgrOf("red", "fg")).toBe("31");
    expect(sgrOf("Light-Blue", "bg")).toBe("104");
    expect(sgrOf("dark_grey", "fg")).toBe("90");
    expect(sgrOf("256", "fg")).toBeUndefined();
    expect(sgrOf("purple-ish", "fg")).toBeUndefined();
    expect(painterOf(null)("x", "text", { bold: true })).toBe("\x1b[1mx\x1b[0m");
    expect(painterOf(null)("x", "text")).toBe("x");
  });

  it("colours the frame with a palette, and only bold/reverse without one", () => {
    const view: DashboardView = {
      rows: [],
      selected: 0,
      now: 0,
      help: false,
      prompt: null,
      message: null,
    };
    const palette = resolvePalette({ custom: { header: "#010203" } }, {});
    const coloured = renderFrame(view, 60, 10, { ansi: true, footer: true, palette });
    expect(coloured[0]).toContain("\x1b[1;38;2;1;2;3m");
    const plain = renderFrame(view, 60, 10, { ansi: true, footer: true, palette: null });
    expect(plain[0]?.startsWith("\x1b[1mwm dashboard")).toBe(true);
    expect(plain.join("")).not.toContain("38;2;");
  });
});
