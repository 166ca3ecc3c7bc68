/**
 * The dashboard's theme vocabulary (workmux's): what the config may name and the dashboard
 * draws. The daemon checks config against it; the CLI resolves colours from it.
 */

export const THEME_SCHEMES = [
  "default",
  "emberforge",
  "glacier-signal",
  "obsidian-pop",
  "slate-garden",
  "phosphor-arcade",
  "lasergrid",
  "mossfire",
  "night-sorbet",
  "graphite-code",
  "festival-circuit",
  "teal-drift",
] as const;

/** `theme.custom.<field>`: each palette field a theme sets. */
export const PALETTE_FIELDS = [
  "current_row_bg",
  "highlight_row_bg",
  "current_worktree_fg",
  "dimmed",
  "text",
  "border",
  "help_border",
  "help_muted",
  "header",
  "keycap",
  "info",
  "success",
  "warning",
  "danger",
  "accent",
] as const;
export type PaletteField = (typeof PALETTE_FIELDS)[number];

/** Other names workmux accepts for three fields. */
export const PALETTE_ALIASES = { bg: "current_row_bg", fg: "text", error: "danger" } as const;

/** The colour names a theme colour may use, in ANSI order: a name's index is its colour number. */
export const COLOUR_NAMES = [
  "black",
  "red",
  "green",
  "yellow",
  "blue",
  "magenta",
  "cyan",
  "gray",
  "darkgray",
  "lightred",
  "lightgreen",
  "lightyellow",
  "lightblue",
  "lightmagenta",
  "lightcyan",
  "white",
] as const;
