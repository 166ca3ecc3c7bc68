/**
 * The dashboard's colours: workmux's palette fields and schemes (`theme`, `theme.scheme`,
 * `theme.mode`, `theme.custom.<field>`), resolved to terminal escape sequences.
 */

import {
  COLOUR_NAMES,
  PALETTE_ALIASES,
  PALETTE_FIELDS,
  type PaletteField,
} from "@wm/protocol/theme";

export { PALETTE_FIELDS, type PaletteField };

/** Each field as a colour string (a name, `#rrggbb` or 0–255). */
export type Palette = Readonly<Record<PaletteField, string>>;
export type ThemeMode = "dark" | "light";

type SchemeColours = Readonly<Record<ThemeMode, readonly string[]>>;

/**
 * workmux's schemes, in PALETTE_FIELDS order (from workmux's dashboard theme palette,
 * `src/command/dashboard/ui/theme.rs`).
 */
const SCHEMES: Readonly<Record<string, SchemeColours>> = {
  default: {
    dark: [
      "#18222e",
      "#28303e",
      "#f4f8ff",
      "#6c7086",
      "#cdd6f4",
      "#3a4a5e",
      "#516882",
      "#707e90",
      "#b4c8dc",
      "#f9e2af",
      "#78e1d5",
      "#a6da95",
      "#f9e2af",
      "#ed8796",
      "#cba6f7",
    ],
    light: [
      "#d7e6d7",
      "#c8c8d2",
      "#4c4f69",
      "#8c8fa1",
      "#4c4f69",
      "#a0a0af",
      "#8282a0",
      "#8c8fa1",
      "#3c4b5f",
      "#df8e1d",
      "#179299",
      "#40a02b",
      "#df8e1d",
      "#d20f39",
      "#8839ef",
    ],
  },
  emberforge: {
    dark: [
      "#201612",
      "#32221b",
      "#fff5e6",
      "#967c6c",
      "#e7d6c6",
      "#684e3f",
      "#926952",
      "#af917f",
      "#ffb05c",
      "#ffdd8a",
      "#67c4cf",
      "#91d376",
      "#ffbd5c",
      "#e46c5c",
      "#dc886c",
    ],
    light: [
      "#f8ebe1",
      "#eeded2",
      "#3c281e",
      "#9b8778",
      "#463226",
      "#c3afa0",
      "#af9682",
      "#a59180",
      "#aa641e",
      "#b48228",
      "#1e8291",
      "#378c28",
      "#b47814",
      "#be3c2d",
      "#af5537",
    ],
  },
  "glacier-signal": {
    dark: [
      "#101b29",
      "#19293c",
      "#edf7ff",
      "#6f8195",
      "#c6d8e8",
      "#405870",
      "#587796",
      "#7b8fa3",
      "#76bbff",
      "#a6e8ff",
      "#68dce9",
      "#80d6b8",
      "#ffc56c",
      "#ff7a7a",
      "#99aaff",
    ],
    light: [
      "#e6f0f8",
      "#d7e4f0",
      "#142841",
      "#788ca0",
      "#1e324b",
      "#b4c3d2",
      "#96afc8",
      "#8c9eaf",
      "#286ebe",
      "#1e82b4",
      "#148ca0",
      "#28916e",
      "#b9821e",
      "#c83737",
      "#505ac8",
    ],
  },
  "obsidian-pop": {
    dark: [
      "#0a0a0e",
      "#1a1a22",
      "#fafaff",
      "#767684",
      "#e2e2f0",
      "#4e4e5e",
      "#00e5ff",
      "#9c9cb0",
      "#ff40c4",
      "#ffea00",
      "#00d6ff",
      "#5eff00",
      "#ffb300",
      "#ff4b4b",
      "#a661ff",
    ],
    light: [
      "#f5f5fa",
      "#e8e8f0",
      "#0f0f19",
      "#8c8c9b",
      "#1e1e2d",
      "#bebecd",
      "#00a0b9",
      "#828296",
      "#be148c",
      "#aa9600",
      "#0096be",
      "#32a000",
      "#be7d00",
      "#d22323",
      "#6e32d2",
    ],
  },
  "slate-garden": {
    dark: [
      "#1b1f26",
      "#272e36",
      "#ecece4",
      "#7e818a",
      "#cbcfd2",
      "#525a63",
      "#65717b",
      "#8b9196",
      "#8aa7be",
      "#c4b076",
      "#78aaa8",
      "#96b68a",
      "#ceb173",
      "#ba8487",
      "#a195bc",
    ],
    light: [
      "#f0f2f5",
      "#e4e8ec",
      "#282d37",
      "#8c919b",
      "#373e46",
      "#bec3ca",
      "#a0aab4",
      "#969ba5",
      "#465f78",
      "#8c783c",
      "#3c7876",
      "#4b7d41",
      "#9b7d32",
      "#964b50",
      "#695a91",
    ],
  },
  "phosphor-arcade": {
    dark: [
      "#0c1712",
      "#14251d",
      "#cdffbe",
      "#6a8366",
      "#aae09e",
      "#385c43",
      "#5f7e52",
      "#7d9674",
      "#ffc05c",
      "#ffe48a",
      "#68dcbb",
      "#8ff084",
      "#f8bf59",
      "#ff6e57",
      "#84d1ff",
    ],
    light: [
      "#ebf8ee",
      "#dceee0",
      "#14321e",
      "#789176",
      "#1e3c26",
      "#b4cdb9",
      "#8caf94",
      "#829b80",
      "#aa7819",
      "#9b8228",
      "#1e8c73",
      "#32962a",
      "#af7d14",
      "#c83723",
      "#2d82c3",
    ],
  },
  lasergrid: {
    dark: [
      "#0e0a19",
      "#1b132e",
      "#f4f0ff",
      "#7f7199",
      "#d9cff0",
      "#574485",
      "#ff3ca6",
      "#a08dbc",
      "#2ef3ff",
      "#eaff47",
      "#00d8ff",
      "#66ff78",
      "#ffa72e",
      "#ff4a8a",
      "#ca4fff",
    ],
    light: [
      "#f2eefc",
      "#e4def5",
      "#191232",
      "#8c80a5",
      "#231c41",
      "#c3b9d7",
      "#c81e7d",
      "#9187a8",
      "#009baa",
      "#829100",
      "#008caf",
      "#23a537",
      "#b9730a",
      "#cd1e55",
      "#8c23d2",
    ],
  },
  mossfire: {
    dark: [
      "#161812",
      "#24281e",
      "#eee9d6",
      "#7e8068",
      "#d0cab7",
      "#565943",
      "#747b52",
      "#95947e",
      "#acc476",
      "#e4c179",
      "#67abb6",
      "#7eba6c",
      "#daa958",
      "#bf6f58",
      "#a683ad",
    ],
    light: [
      "#f2f0e8",
      "#e6e4da",
      "#23261c",
      "#8a8c78",
      "#303426",
      "#c3c0b2",
      "#a0a587",
      "#919180",
      "#5f762d",
      "#a08232",
      "#287380",
      "#37822d",
      "#a5761e",
      "#a0412d",
      "#734b7d",
    ],
  },
  "night-sorbet": {
    dark: [
      "#1b1826",
      "#2a253a",
      "#faf5f8",
      "#91899d",
      "#dfd6e2",
      "#5d5470",
      "#817ca4",
      "#a69fb3",
      "#97d2ff",
      "#ffebb2",
      "#99ece5",
      "#b6eaab",
      "#ffc4a0",
      "#ff9bad",
      "#cdb4ff",
    ],
    light: [
      "#f5f0f8",
      "#e8e2f0",
      "#282337",
      "#948ca2",
      "#322a41",
      "#c8c0d7",
      "#aaa2c3",
      "#9b94ac",
      "#3778b9",
      "#a5872d",
      "#1e918c",
      "#419637",
      "#b97d37",
      "#c84155",
      "#825fc8",
    ],
  },
  "graphite-code": {
    dark: [
      "#13161a",
      "#20242a",
      "#f2f4f7",
      "#747c84",
      "#cdd2d8",
      "#4a525a",
      "#666f78",
      "#889098",
      "#e2e6eb",
      "#f6f8fa",
      "#bcc4cc",
      "#d6dce2",
      "#abb3bb",
      "#9299a1",
      "#e8ecf0",
    ],
    light: [
      "#f5f6f8",
      "#eaecf0",
      "#191c23",
      "#8c949e",
      "#282e37",
      "#c3c8d0",
      "#aab2bc",
      "#9ba2ac",
      "#373e48",
      "#282d34",
      "#555f6c",
      "#464e58",
      "#646c76",
      "#78808a",
      "#3c424c",
    ],
  },
  "festival-circuit": {
    dark: [
      "#13122c",
      "#211f46",
      "#f8f4ff",
      "#817eaa",
      "#dbd6f1",
      "#4a568f",
      "#6477c4",
      "#9795be",
      "#45d3ff",
      "#ffdb46",
      "#47e7cc",
      "#75e260",
      "#ff9c3f",
      "#ff5c84",
      "#b265ff",
    ],
    light: [
      "#f0eefc",
      "#e2e0f5",
      "#191637",
      "#8784ac",
      "#231e44",
      "#bec3dc",
      "#8c9bd2",
      "#918eb4",
      "#0f87b4",
      "#a58c00",
      "#149687",
      "#2d961e",
      "#be690f",
      "#cd284b",
      "#7832d2",
    ],
  },
  "teal-drift": {
    dark: [
      "#19191e",
      "#2d2d37",
      "#ffffff",
      "#646464",
      "#c8c8c8",
      "#3c3c3c",
      "#4ec9b0",
      "#646464",
      "#b4bec8",
      "#c8b478",
      "#4ec9b0",
      "#78c878",
      "#c8b478",
      "#dc7878",
      "#b48cc8",
    ],
    light: [
      "#f2f4f6",
      "#e4e8ec",
      "#242d35",
      "#828c94",
      "#242d35",
      "#bcc4c8",
      "#0d8076",
      "#828c94",
      "#344664",
      "#8c691e",
      "#0d8076",
      "#28783c",
      "#8c691e",
      "#b43232",
      "#734b91",
    ],
  },
};

export const SCHEME_NAMES: readonly string[] = Object.keys(SCHEMES);

const ALIASES: Readonly<Record<string, PaletteField>> = PALETTE_ALIASES;

/** ANSI colour numbers of the names a colour may use (`light-red`, `dark_gray`, `grey` too). */
const NAMED: Readonly<Record<string, number>> = Object.fromEntries(
  COLOUR_NAMES.map((name, n) => [name, n]),
);

/**
 * The SGR parameters that set `colour` as foreground (or background), or undefined when it is
 * not a colour: 16 names as ANSI colours, 0–255 as indexed, `#rgb`/`#rrggbb` as 24-bit.
 */
export function sgrOf(colour: string, layer: "fg" | "bg"): string | undefined {
  const t = colour.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/.exec(t)?.[1];
  const base = layer === "fg" ? 38 : 48;
  if (hex) {
    const full = hex.length === 3 ? [...hex].map((c) => c + c).join("") : hex;
    const [r, g, b] = [0, 2, 4].map((i) => Number.parseInt(full.slice(i, i + 2), 16));
    return `${base};2;${r};${g};${b}`;
  }
  if (/^\d{1,3}$/.test(t) && Number(t) <= 255) return `${base};5;${Number(t)}`;
  const n = NAMED[t.replace(/[-_ ]/g, "").replace("grey", "gray")];
  if (n === undefined) return undefined;
  const first = layer === "fg" ? (n < 8 ? 30 : 90) : n < 8 ? 40 : 100;
  return String(first + (n % 8));
}

/** Light when `$COLORFGBG` (`fg;bg`, set by rxvt, Konsole, iTerm2 …) names a light background. */
export function detectMode(env: Readonly<Record<string, string | undefined>>): ThemeMode {
  const bg = Number(env.COLORFGBG?.split(";").at(-1));
  return Number.isInteger(bg) && (bg === 7 || (bg >= 9 && bg <= 15)) ? "light" : "dark";
}

/** `theme` as `config.get` returns it: `{scheme?, mode?, custom?}`, anything else ignored. */
interface ThemeConfig {
  scheme?: unknown;
  mode?: unknown;
  custom?: unknown;
}

/**
 * The palette for a `theme` config value: the scheme (unknown names: default) in the given
 * mode (else the terminal's), with `custom` colours over it. Null under `NO_COLOR`.
 */
export function resolvePalette(
  theme: unknown,
  env: Readonly<Record<string, string | undefined>>,
): Palette | null {
  if (env.NO_COLOR) return null;
  const t: ThemeConfig = theme && typeof theme === "object" ? (theme as ThemeConfig) : {};
  const mode: ThemeMode = t.mode === "light" || t.mode === "dark" ? t.mode : detectMode(env);
  const scheme = (typeof t.scheme === "string" && SCHEMES[t.scheme]) || SCHEMES.default;
  const colours = scheme?.[mode] ?? [];
  const palette = Object.fromEntries(
    PALETTE_FIELDS.map((f, i) => [f, colours[i] ?? "white"]),
  ) as Record<PaletteField, string>;
  const custom = t.custom && typeof t.custom === "object" ? t.custom : {};
  for (const [key, value] of Object.entries(custom)) {
    const field = ALIASES[key] ?? (PALETTE_FIELDS as readonly string[]).find((f) => f === key);
    if (field && typeof value === "string" && sgrOf(value, "fg"))
      palette[field as PaletteField] = value;
  }
  return palette;
}

/** Wraps text in the SGR styles given, resetting after; plain text without a palette. */
export type Painter = (
  text: string,
  fg?: PaletteField,
  opts?: { bg?: PaletteField; bold?: boolean },
) => string;

export function painterOf(palette: Palette | null): Painter {
  return (text, fg, opts = {}) => {
    if (!text) return text;
    const codes: string[] = [];
    if (opts.bold) codes.push("1");
    if (palette && fg) codes.push(sgrOf(palette[fg], "fg") ?? "");
    if (palette && opts.bg) codes.push(sgrOf(palette[opts.bg], "bg") ?? "");
    const sgr = codes.filter(Boolean).join(";");
    return sgr ? `\x1b[${sgr}m${text}\x1b[0m` : text;
  };
}
