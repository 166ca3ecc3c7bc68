import { z } from "zod";

export const u8 = z.int().min(0).max(255);
export const u16 = z.int().min(0).max(65_535);
export const u32 = z.int().min(0).max(4_294_967_295);

export const stringList = z.array(z.string());

const UNIT_SECONDS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86_400,
  day: 86_400,
  days: 86_400,
};

/** Seconds in `"90"`, `"30m"`, `"1h30m"`, `"2 hours"`; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim().toLowerCase();
  if (/^\d+$/.test(s)) return Number(s);
  const part = /(\d+)\s*([a-z]+)\s*/y;
  let total = 0;
  let matched = 0;
  for (let m = part.exec(s); m; m = part.exec(s)) {
    const unit = UNIT_SECONDS[m[2] as string];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
    matched = part.lastIndex;
  }
  return matched > 0 && matched === s.length ? total : undefined;
}

/** Whole seconds, given as an integer or a duration string; the output is always seconds. */
export const durationSeconds = z.union(
  [
    z.int().min(0),
    z.string().transform((text, ctx) => {
      const seconds = parseDuration(text);
      if (seconds === undefined) {
        ctx.addIssue({
          code: "custom",
          message: `expected seconds or a duration like "30m" or "1h30m", got "${text}"`,
        });
        return z.NEVER;
      }
      return seconds;
    }),
  ],
  { error: 'expected seconds (an integer) or a duration like "30m"' },
);

const SIZE = /^\d+(\.\d+)?\s*([kmgt](i?b)?|b)?$/i;

/** A memory or disk size such as `8G`, `512m` or `4GiB`. */
export const byteSize = z
  .string()
  .regex(SIZE, { error: 'expected a size like "8G", "512M" or "4GiB"' });

/** An absolute path, or one starting with `~`. */
export const hostPath = z
  .string()
  .refine((p) => p.startsWith("/") || p === "~" || p.startsWith("~/"), {
    error: "must be an absolute path or start with ~/",
  });

export const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), {
    error: "must be a path relative to the worktree, without ..",
  });
