import { COLOUR_NAMES, PALETTE_ALIASES, PALETTE_FIELDS } from "@wm/protocol/theme";
import { z } from "zod";
import { u8, u16 } from "./schema-common.ts";

export { COLOUR_NAMES, THEME_SCHEMES } from "@wm/protocol/theme";

const COLOUR_FIELDS = PALETTE_FIELDS;
const COLOUR_ALIASES = PALETTE_ALIASES;

/** A named colour (`light-red`, `dark_gray` and `grey` too), `#rgb`, `#rrggbb`, or 0–255. */
export function isColour(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (/^#([0-9a-f]{3}|[0-9a-f]{6})$/.test(t)) return true;
  if (/^\d{1,3}$/.test(t)) return Number(t) <= 255;
  const name = t.replace(/[-_ ]/g, "").replace("grey", "gray");
  return (COLOUR_NAMES as readonly string[]).includes(name);
}

/** A colour string; a bare number in YAML (`dimmed: 244`) is an index. */
const colour = z.preprocess(
  (v) => (typeof v === "number" ? String(v) : v),
  z.string().superRefine((v, ctx) => {
    if (!isColour(v))
      ctx.addIssue({
        code: "custom",
        message: `"${v}" is not a colour: use a name (red, lightblue, …), #rrggbb, or 0-255`,
      });
  }),
);

const customColours = z
  .strictObject(
    Object.fromEntries(
      [...COLOUR_FIELDS, ...Object.keys(COLOUR_ALIASES)].map((k) => [k, colour.optional()]),
    ) as Record<
      (typeof COLOUR_FIELDS)[number] | keyof typeof COLOUR_ALIASES,
      z.ZodOptional<typeof colour>
    >,
  )
  .transform((colours) => {
    const out: Partial<Record<(typeof COLOUR_FIELDS)[number], string>> = {};
    for (const [key, value] of Object.entries(colours)) {
      if (value === undefined) continue;
      const field = COLOUR_ALIASES[key as keyof typeof COLOUR_ALIASES] ?? key;
      out[field as (typeof COLOUR_FIELDS)[number]] ??= value;
    }
    return out;
  });

/** Anything but `light` is dark, as in workmux. */
const themeMode = z.string().transform((m) => (m.toLowerCase() === "light" ? "light" : "dark"));

export const themeSchema = z.union([
  z.string().transform((name) => {
    const lower = name.toLowerCase();
    return lower === "dark" || lower === "light" ? { mode: lower } : { scheme: lower };
  }),
  z
    .strictObject({
      scheme: z.string().optional(),
      mode: themeMode.optional(),
      custom: customColours.optional(),
    })
    .transform((t) => (t.scheme === undefined ? t : { ...t, scheme: t.scheme.toLowerCase() })),
]);

export const statusIconsSchema = z.strictObject({
  working: z.string().optional(),
  waiting: z.string().optional(),
  done: z.string().optional(),
  sleeping: z.string().optional(),
});

export const autoNameSchema = z.strictObject({
  command: z.string().optional(),
  model: z.string().optional(),
  system_prompt: z.string().optional(),
  background: z.boolean().optional(),
});

const agentColumn = z.enum([
  "number",
  "project",
  "worktree",
  "git",
  "pr",
  "status",
  "time",
  "title",
]);
const worktreeColumn = z.enum([
  "number",
  "project",
  "worktree",
  "git",
  "pr",
  "mux",
  "age",
  "agent",
]);

export const dashboardSchema = z.strictObject({
  commit: z.string().optional(),
  merge: z.string().optional(),
  preview_size: u8.optional(),
  show_check_counts: z.boolean().optional(),
  agent_columns: z.array(agentColumn).optional(),
  worktree_columns: z.array(worktreeColumn).optional(),
  worktree_label: z.enum(["handle-first", "branch-first"]).optional(),
  close_on_jump: z.boolean().optional(),
  sort_mode: z.enum(["priority", "project", "recency", "natural"]).optional(),
});

const sidebarWidth = z.union(
  [
    u16,
    z.string().transform((text, ctx) => {
      const m = /^\s*(\d+)\s*(%?)\s*$/.exec(text);
      const n = m ? Number(m[1]) : Number.NaN;
      if (!m || (m[2] === "%" && (n < 1 || n > 100)) || n > 65_535) {
        ctx.addIssue({
          code: "custom",
          message: `expected columns or "N%" (1-100), got "${text}"`,
        });
        return z.NEVER;
      }
      return m[2] === "%" ? `${n}%` : n;
    }),
  ],
  { error: 'expected a number of columns or a percentage like "15%"' },
);

const template = z.union([z.string(), z.array(z.string())], {
  error: "expected a template string or a list of strings",
});

const sidebarTemplates = z
  .strictObject({
    compact: template.optional(),
    tiles: template.optional(),
    horizontal: template.optional(),
    top: template.optional(),
    grouped: z
      .strictObject({
        header: template.optional(),
        compact: template.optional(),
        tiles: template.optional(),
      })
      .optional(),
  })
  .transform(({ top, ...rest }) =>
    top === undefined || rest.horizontal !== undefined ? rest : { ...rest, horizontal: top },
  );

const agentIcon = z.union([
  z.string(),
  z.strictObject({ icon: z.string().optional(), color: z.string().optional() }),
]);

export const sidebarSchema = z.strictObject({
  width: sidebarWidth.optional(),
  layout: z.enum(["compact", "tiles"]).optional(),
  position: z.enum(["left", "top"]).optional(),
  height: u16.optional(),
  horizontal: z.strictObject({ item_width: u16.optional() }).optional(),
  dim_stale: z.boolean().optional(),
  sort: z.enum(["recency", "priority", "window"]).optional(),
  group_by: z.enum(["project", "session"]).optional(),
  collapse_stale: z.boolean().optional(),
  enter_action: z.enum(["focus", "select"]).optional(),
  templates: sidebarTemplates.optional(),
  agent_icons: z.record(z.string(), agentIcon).optional(),
});
