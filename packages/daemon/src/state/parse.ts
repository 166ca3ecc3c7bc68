import type { z } from "zod";

/** A state file's content, or why it is not usable. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export function parseJson(text: string): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, reason: `it is not JSON (${(err as Error).message})` };
  }
}

/** `value` checked against `schema`; the reason names the first field that failed. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown): Parsed<T> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return { ok: false, reason: `it does not match the schema (${where}${issue?.message})` };
}
