/**
 * Text that can come from an agent (branch names, notify text, statuses, paths) and ends up on
 * a terminal, in tmux or in the dashboard. A terminal obeys control characters: ESC starts CSI
 * and OSC sequences (OSC 52 writes the clipboard), BEL, CR and BS rewrite what is shown, and
 * bidirectional formatting characters reorder it. Names are refused when they hold any of
 * these; free text is shown through `displaySafe`.
 */

/** Bidirectional formatting characters: marks, embeddings, overrides and isolates. */
const BIDI = new Set([
  0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
]);

export type UnsafeKind = "C0 control" | "DEL" | "C1 control" | "bidi control" | "line separator";

/** Why a code point must not reach a terminal as it is, or undefined when it may. */
export function unsafeKind(cp: number): UnsafeKind | undefined {
  if (cp < 0x20) return "C0 control";
  if (cp === 0x7f) return "DEL";
  if (cp >= 0x80 && cp <= 0x9f) return "C1 control";
  if (BIDI.has(cp)) return "bidi control";
  if (cp === 0x2028 || cp === 0x2029) return "line separator";
  return undefined;
}

/** True for C0 and C1 controls, DEL, bidi formatting characters and U+2028/U+2029. */
export function isUnsafeCodePoint(cp: number): boolean {
  return unsafeKind(cp) !== undefined;
}

/** The first character of `text` that a terminal would interpret rather than show, if any. */
export function unsafeChar(text: string): string | undefined {
  for (const ch of text) if (isUnsafeCodePoint(ch.codePointAt(0) as number)) return ch;
  return undefined;
}

/** `U+001B`: a code point as Unicode writes it. */
export function codePointName(ch: string): string {
  return `U+${(ch.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Why `text` may not be used as a name (a sentence fragment), or undefined when it may. */
export function unsafeTextProblem(text: string): string | undefined {
  const ch = unsafeChar(text);
  if (ch === undefined) return undefined;
  const kind = unsafeKind(ch.codePointAt(0) as number);
  const what =
    kind === "bidi control"
      ? "a bidirectional formatting character, which reorders how text is shown"
      : kind === "line separator"
        ? "a line separator"
        : `a ${kind === "DEL" ? "DEL" : "control"} character, which a terminal would interpret`;
  return `it contains ${codePointName(ch)}, ${what}`;
}

const NAMED: Readonly<Record<number, string>> = { 9: "\\t", 10: "\\n", 13: "\\r" };

function escapeOf(cp: number): string {
  const named = NAMED[cp];
  if (named) return named;
  return cp <= 0xff
    ? `\\x${cp.toString(16).padStart(2, "0")}`
    : `\\u${cp.toString(16).padStart(4, "0")}`;
}

export interface DisplaySafeOptions {
  /** Keep newlines and tabs (text shown as a block of lines); else they are escaped too. */
  multiline?: boolean;
}

/**
 * `text` with every character a terminal would interpret replaced by a visible escape: ESC
 * becomes `\x1b`, BEL `\x07`, CSI (U+009B) `\x9b`, newline `\n`, U+202E `\u202e`. So an OSC 52
 * clipboard write `ESC ] 52 ; c ; … BEL` is shown as `\x1b]52;c;…\x07` and does nothing.
 * Idempotent: its output is left as it is.
 */
export function displaySafe(text: string, opts: DisplaySafeOptions = {}): string {
  if (unsafeChar(text) === undefined) return text;
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (opts.multiline && (cp === 0x0a || cp === 0x09)) out += ch;
    else out += isUnsafeCodePoint(cp) ? escapeOf(cp) : ch;
  }
  return out;
}

/**
 * JSON text (from `JSON.stringify`) that is still the same JSON but safe on a terminal: the
 * characters `displaySafe` escapes, which JSON.stringify leaves as they are (DEL, C1, bidi,
 * U+2028/U+2029), become `\uXXXX` escapes. Newlines, the only control character
 * JSON.stringify writes outside strings, stay.
 */
export function jsonSafe(json: string): string {
  if (unsafeChar(json) === undefined) return json;
  let out = "";
  for (const ch of json) {
    const cp = ch.codePointAt(0) as number;
    out += cp !== 0x0a && isUnsafeCodePoint(cp) ? `\\u${cp.toString(16).padStart(4, "0")}` : ch;
  }
  return out;
}
