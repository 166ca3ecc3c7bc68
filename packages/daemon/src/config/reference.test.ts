import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { CONFIG_REFERENCE } from "./reference.ts";
import { fileConfigSchema } from "./schema.ts";

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The dotted keys of the schema's nested objects (optional/default/transform wrappers unwrapped). */
function schemaKeys(schema: z.ZodType, prefix = "", out: string[] = []): string[] {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if (
      (def.type === "optional" || def.type === "default" || def.type === "nullable") &&
      def.innerType
    )
      s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else break;
  }
  const def = defOf(s);
  if (def.type === "object" && def.shape) {
    for (const [k, v] of Object.entries(def.shape)) {
      const key = prefix ? `${prefix}.${k}` : k;
      out.push(key);
      schemaKeys(v, key, out);
    }
  }
  return out;
}

describe("config reference", () => {
  it("has an entry for every key of the schema, and none for a key it lacks", () => {
    const inSchema = schemaKeys(fileConfigSchema).sort();
    const documented = CONFIG_REFERENCE.map((r) => r.key).sort();
    expect(inSchema.length).toBeGreaterThan(100);
    expect(documented).toEqual(inSchema);
    expect(new Set(documented).size).toBe(documented.length);
  });

  it("gives every key a type, a default and a one-line description", () => {
    for (const r of CONFIG_REFERENCE) {
      for (const field of [r.type, r.default, r.description]) {
        expect(field.trim(), r.key).not.toBe("");
        expect(field, r.key).not.toContain("\n");
      }
    }
  });
});
