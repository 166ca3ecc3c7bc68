import { z } from "zod";
import { u8, u16 } from "./schema-common.ts";

export const paneSchema = z.strictObject({
  command: z.string().optional(),
  focus: z.boolean().optional(),
  zoom: z.boolean().optional(),
  split: z.enum(["horizontal", "vertical", "stacked"]).optional(),
  size: u16.optional(),
  percentage: u8.optional(),
  target: z.int().min(0).optional(),
  name: z.string().optional(),
});
export type Pane = z.output<typeof paneSchema>;

interface RuleContext {
  addIssue(issue: { code: "custom"; message: string; path: PropertyKey[] }): void;
}

/** workmux's `validate_panes_config`, with each problem pinned to the pane key at fault. */
export function checkPaneRules(panes: readonly Pane[], ctx: RuleContext): void {
  const fail = (path: PropertyKey[], message: string) =>
    ctx.addIssue({ code: "custom", message, path });
  panes.forEach((pane, i) => {
    if (i === 0) {
      if (pane.split !== undefined) fail([0, "split"], "the first pane cannot have a split");
      if (pane.size !== undefined) fail([0, "size"], "the first pane cannot have a size");
      if (pane.percentage !== undefined) {
        fail([0, "percentage"], "the first pane cannot have a percentage");
      }
      if (pane.target !== undefined) fail([0, "target"], "the first pane cannot have a target");
      return;
    }
    if (pane.split === undefined) {
      fail([i], "every pane after the first needs split: horizontal or vertical");
    }
    if (pane.size !== undefined && pane.percentage !== undefined) {
      fail([i, "percentage"], "size and percentage are mutually exclusive; keep one");
    }
    if (pane.percentage !== undefined && (pane.percentage < 1 || pane.percentage > 100)) {
      fail([i, "percentage"], `percentage must be between 1 and 100, got ${pane.percentage}`);
    }
    if (pane.target !== undefined && pane.target >= i) {
      fail([i, "target"], `target must name an earlier pane (0-${i - 1}), got ${pane.target}`);
    }
  });
  const zoomed = panes.flatMap((pane, i) => (pane.zoom === true ? [i] : []));
  for (const i of zoomed.slice(1)) {
    fail([i, "zoom"], `only one pane can have zoom: true (pane ${zoomed[0]} already has it)`);
  }
}

export const panesSchema = z.array(paneSchema).superRefine(checkPaneRules);

export const windowsSchema = z
  .array(
    z.strictObject({
      name: z.string().optional(),
      panes: panesSchema.optional(),
    }),
  )
  .min(1, { error: "windows must not be empty" });

export const layoutsSchema = z.record(z.string(), z.strictObject({ panes: panesSchema }));
