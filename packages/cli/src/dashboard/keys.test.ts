import { describe, expect, it } from "vitest";
import { actionOf, answerOf, forwardOf, joinTyped, jumpOf, parseKeys } from "./keys.ts";

const actions = (input: string) => parseKeys(input).map(actionOf);

describe("parseKeys", () => {
  it("reads arrow keys in normal (CSI) and application (SS3) cursor mode", () => {
    expect(parseKeys("\x1b[A\x1b[B\x1bOA\x1bOB").map((k) => k.name)).toEqual([
      "up",
      "down",
      "up",
      "down",
    ]);
    expect(parseKeys("\x1b[1;5A")).toEqual([{ name: "up" }]);
    expect(parseKeys("\x1b[5~\x1b[6~").map((k) => k.name)).toEqual(["pageup", "pagedown"]);
  });

  it("tells a lone Esc from Alt+key and from escape sequences", () => {
    expect(parseKeys("\x1b")).toEqual([{ name: "escape" }]);
    expect(parseKeys("\x1b\x1b")).toEqual([{ name: "escape" }, { name: "escape" }]);
    expect(parseKeys("\x1bq")).toEqual([{ name: "char", char: "q", alt: true }]);
    expect(parseKeys("\x1bj")).toEqual([{ name: "char", char: "j", alt: true }]);
    expect(parseKeys("\x1b[200~")).toEqual([{ name: "unknown", sequence: "\x1b[200~" }]);
  });

  it("splits several keys arriving in one read", () => {
    expect(parseKeys("jj\x1b[Ak\rq").map((k) => k.name)).toEqual([
      "char",
      "char",
      "up",
      "char",
      "enter",
      "char",
    ]);
    expect(parseKeys("é🤖")).toEqual([
      { name: "char", char: "é", alt: false },
      { name: "char", char: "🤖", alt: false },
    ]);
  });
});

describe("actionOf", () => {
  it("maps arrows and j/k to moving, enter to open, m/c/x to merge/commit/close, ? to help", () => {
    expect(actions("\x1b[A\x1b[Bkj\r\nmcx/sdi?")).toEqual([
      "up",
      "down",
      "up",
      "down",
      "open",
      "open",
      "merge",
      "commit",
      "close",
      "filter",
      "sort",
      "diff",
      "input",
      "help",
    ]);
  });

  it("quits on q, Esc and Ctrl-C, but not on Alt+q or Alt+j", () => {
    expect(actions("q")).toEqual(["quit"]);
    expect(actions("\x1b")).toEqual(["quit"]);
    expect(actions("\x03")).toEqual(["quit"]);
    expect(actions("\x1bq\x1bj")).toEqual([undefined, undefined]);
    expect(actions("z")).toEqual([undefined]);
  });
});

describe("answerOf", () => {
  it("is yes for y and Y, no for any other key", () => {
    const answers = (input: string) => parseKeys(input).map(answerOf);
    expect(answers("yYnNqc\x1b\r\x1by")).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe("jumpOf", () => {
  it("maps 1–9 to rows 0–8 and nothing else", () => {
    expect(parseKeys("190a\x1b1").map(jumpOf)).toEqual([0, 8, undefined, undefined, undefined]);
  });
});

describe("input mode forwarding", () => {
  it("types characters literally and presses only fixed tmux key names", () => {
    const keys = parseKeys("ab\x7f\r\t\x1b[A\x1b[D\x03\x04");
    expect(keys.map(forwardOf)).toEqual([
      { text: "a" },
      { text: "b" },
      { key: "BSpace" },
      { key: "Enter" },
      { key: "Tab" },
      { key: "Up" },
      { key: "Left" },
      { key: "C-c" },
      { key: "C-d" },
    ]);
    expect(forwardOf({ name: "char", char: "x", alt: true })).toBeUndefined();
    expect(forwardOf({ name: "escape" })).toBeUndefined();
    expect(forwardOf({ name: "char", char: "Enter", alt: false })).toEqual({ text: "Enter" });
  });

  it("joins runs of typed text, keeping key presses in order", () => {
    expect(
      joinTyped([{ text: "h" }, { text: "i" }, { key: "Enter" }, { text: "x" }, { key: "C-c" }]),
    ).toEqual([{ text: "hi" }, { key: "Enter" }, { text: "x" }, { key: "C-c" }]);
  });
});
