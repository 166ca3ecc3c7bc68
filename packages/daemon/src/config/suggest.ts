import type { z } from "zod";
import type { KeyPath } from "./tree.ts";

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: readonly z.ZodType[];
  element?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The maps a value at this schema can be (through optional, transforms, unions and lists). */
function maps(schema: z.ZodType): Record<string, z.ZodType>[] {
  const def = defOf(schema);
  switch (def.type) {
    case "object":
      return def.shape ? [def.shape] : [];
    case "optional":
    case "nullable":
    case "default":
    case "readonly":
    case "nonoptional":
      return def.innerType ? maps(def.innerType) : [];
    case "pipe":
      return def.in ? maps(def.in) : [];
    case "union":
      return (def.options ?? []).flatMap(maps);
    default:
      return [];
  }
}

/** The keys a map at `path` may have under `schema`; empty where any key goes (or no map). */
export function keysAt(schema: z.ZodType, path: KeyPath): string[] {
  let level = [schema];
  for (const segment of path) {
    const index = typeof segment === "number" || /^\d+$/.test(String(segment));
    level = level.flatMap((s) =>
      index
        ? elementsOf(s)
        : maps(s).flatMap((shape) => {
            const child = shape[String(segment)];
            return child ? [child] : [];
          }),
    );
  }
  return [...new Set(level.flatMap((s) => maps(s).flatMap((shape) => Object.keys(shape))))];
}

function elementsOf(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  if (def.type === "array") return def.element ? [def.element] : [];
  if (def.innerType) return elementsOf(def.innerType);
  if (def.type === "pipe" && def.in) return elementsOf(def.in);
  if (def.type === "union") return (def.options ?? []).flatMap(elementsOf);
  return [];
}

/** Edit distance, counting a swap of two neighbouring letters as one edit. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The candidate closest to `word`, when it is close enough to be a likely misspelling. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: { key: string; d: number } | undefined;
  for (const key of candidates) {
    const d = distance(lower, key.toLowerCase());
    if (!best || d < best.d) best = { key, d };
  }
  if (!best) return undefined;
  const allowed = Math.max(1, Math.min(3, Math.floor(Math.max(word.length, best.key.length) / 3)));
  return best.d <= allowed ? best.key : undefined;
}
