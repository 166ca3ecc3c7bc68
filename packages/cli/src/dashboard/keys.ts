import type { SendKey } from "@wm/protocol";

export type Key =
  | {
      name:
        | "up"
        | "down"
        | "left"
        | "right"
        | "home"
        | "end"
        | "pageup"
        | "pagedown"
        | "enter"
        | "escape"
        | "ctrl-c"
        | "ctrl-d"
        | "backspace"
        | "tab";
    }
  | { name: "char"; char: string; alt: boolean }
  | { name: "unknown"; sequence: string };

const CSI_FINAL: Readonly<Record<string, Key["name"]>> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
};

const CSI_TILDE: Readonly<Record<string, Key["name"]>> = {
  "1": "home",
  "4": "end",
  "5": "pageup",
  "6": "pagedown",
  "7": "home",
  "8": "end",
};

function named(name: Key["name"], sequence: string): Key {
  return name === "char" || name === "unknown" ? { name: "unknown", sequence } : ({ name } as Key);
}

function single(ch: string, alt: boolean): Key {
  if (ch === "\r" || ch === "\n") return { name: "enter" };
  if (ch === "\t") return { name: "tab" };
  if (ch === "\x7f" || ch === "\b") return { name: "backspace" };
  if (ch === "\x03") return { name: "ctrl-c" };
  if (ch === "\x04") return { name: "ctrl-d" };
  if (ch < " ") return { name: "unknown", sequence: alt ? `\x1b${ch}` : ch };
  return { name: "char", char: ch, alt };
}

/**
 * Splits raw terminal input into keys: CSI (`ESC [ … final`) and SS3 (`ESC O x`) sequences, a
 * lone ESC (escape), ESC followed by a character (Alt+character), and plain characters.
 */
export function parseKeys(input: string): Key[] {
  const keys: Key[] = [];
  const chars = [...input];
  let i = 0;
  while (i < chars.length) {
    const ch = chars[i] as string;
    if (ch !== "\x1b") {
      keys.push(single(ch, false));
      i += 1;
      continue;
    }
    const next = chars[i + 1];
    if (next === undefined || next === "\x1b") {
      keys.push({ name: "escape" });
      i += 1;
      continue;
    }
    if (next === "[") {
      let j = i + 2;
      while (j < chars.length && !/[\x40-\x7e]/.test(chars[j] as string)) j += 1;
      const body = chars.slice(i + 2, j).join("");
      const final = chars[j] ?? "";
      const sequence = chars.slice(i, j + 1).join("");
      const name =
        final === "~" ? CSI_TILDE[body] : /^[\d;]*$/.test(body) ? CSI_FINAL[final] : undefined;
      keys.push(name ? named(name, sequence) : { name: "unknown", sequence });
      i = j + 1;
      continue;
    }
    if (next === "O" && chars[i + 2] !== undefined) {
      const final = chars[i + 2] as string;
      const name = final === "M" ? "enter" : CSI_FINAL[final];
      const sequence = `\x1bO${final}`;
      keys.push(name ? named(name, sequence) : { name: "unknown", sequence });
      i += 3;
      continue;
    }
    keys.push(single(next, true));
    i += 2;
  }
  return keys;
}

export type Action =
  | "up"
  | "down"
  | "top"
  | "bottom"
  | "open"
  | "merge"
  | "commit"
  | "close"
  | "filter"
  | "sort"
  | "diff"
  | "input"
  | "help"
  | "quit";

const CHAR_ACTIONS: Readonly<Record<string, Action>> = {
  k: "up",
  j: "down",
  g: "top",
  G: "bottom",
  m: "merge",
  c: "commit",
  x: "close",
  X: "close",
  "/": "filter",
  s: "sort",
  d: "diff",
  i: "input",
  "?": "help",
  q: "quit",
};

/** What a key does in the dashboard's list; Alt+key does nothing. */
export function actionOf(key: Key): Action | undefined {
  switch (key.name) {
    case "up":
      return "up";
    case "down":
      return "down";
    case "home":
    case "pageup":
      return "top";
    case "end":
    case "pagedown":
      return "bottom";
    case "enter":
      return "open";
    case "escape":
    case "ctrl-c":
      return "quit";
    case "char":
      if (key.alt) return undefined;
      return CHAR_ACTIONS[key.char];
    default:
      return undefined;
  }
}

/** The row a digit key 1–9 jumps to (0-based), or undefined for any other key. */
export function jumpOf(key: Key): number | undefined {
  if (key.name !== "char" || key.alt || !/^[1-9]$/.test(key.char)) return undefined;
  return Number(key.char) - 1;
}

/** The answer to a y/n question: y (or Y) confirms, any other key cancels. */
export function answerOf(key: Key): boolean {
  return key.name === "char" && !key.alt && (key.char === "y" || key.char === "Y");
}

/** A key typed in input mode as the agent's pane gets it: literal text or a fixed tmux key name. */
export type ForwardedKey = { text: string } | { key: SendKey };

const FORWARDED: Partial<Record<Key["name"], SendKey>> = {
  enter: "Enter",
  backspace: "BSpace",
  tab: "Tab",
  up: "Up",
  down: "Down",
  left: "Left",
  right: "Right",
  "ctrl-c": "C-c",
  "ctrl-d": "C-d",
};

/** What input mode sends for a key; undefined for keys it does not forward (Alt+key, others). */
export function forwardOf(key: Key): ForwardedKey | undefined {
  if (key.name === "char") return key.alt ? undefined : { text: key.char };
  const name = FORWARDED[key.name];
  return name ? { key: name } : undefined;
}

/** Forwarded keys with each run of typed text joined into one item. */
export function joinTyped(keys: readonly ForwardedKey[]): ForwardedKey[] {
  const out: ForwardedKey[] = [];
  for (const k of keys) {
    const last = out.at(-1);
    if ("text" in k && last && "text" in last) out[out.length - 1] = { text: last.text + k.text };
    else out.push(k);
  }
  return out;
}
