import type { z } from "zod";

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

const EXPECTED: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "a list",
  object: "a map",
  record: "a map",
};

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object" && value !== null) return "a map";
  return String(value);
}

function unionExpectation(branches: readonly (readonly Issue[])[]): string {
  const expected = branches.flatMap((branch) =>
    branch.flatMap((i) => (i.path.length === 0 && i.code === "invalid_type" ? [i.expected] : [])),
  );
  const names = [...new Set(expected.map((e) => EXPECTED[e] ?? e))];
  return names.length > 0 ? names.join(" or ") : "a different value";
}

function isIntegerSchema(issue: RawIssue): boolean {
  const def = (issue.inst as { _zod?: { def?: { format?: unknown } } } | undefined)?._zod?.def;
  return typeof def?.format === "string" && def.format.includes("int");
}

/** Per-parse error map: short messages that say what was expected and what was found. */
export function errorMessage(issue: RawIssue): string | undefined {
  const input = issue.input;
  switch (issue.code) {
    case "invalid_type":
      if (input === undefined) return "required key is missing";
      return `expected ${EXPECTED[isIntegerSchema(issue) ? "int" : issue.expected] ?? issue.expected}, got ${show(input)}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${show(input)}`;
    case "too_small":
      if (issue.origin === "array") return `needs at least ${issue.minimum} item(s)`;
      if (issue.origin === "string") return "must not be empty";
      return `must be at least ${issue.minimum}, got ${show(input)}`;
    case "too_big":
      if (issue.origin === "array") return `allows at most ${issue.maximum} item(s)`;
      return `must be at most ${issue.maximum}, got ${show(input)}`;
    case "invalid_union":
      return `expected ${unionExpectation(issue.errors)}, got ${show(input)}`;
    case "invalid_format":
      return `has the wrong format, got ${show(input)}`;
    default:
      return undefined;
  }
}

export interface SortedIssues {
  errors: { path: PropertyKey[]; message: string }[];
  unknownKeys: PropertyKey[][];
}

/** A union branch the input's shape matched, if any: that branch's issues are the real ones. */
function matchingBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  const rootTypeMismatch = (branch: readonly Issue[]) =>
    branch.some((i) => i.path.length === 0 && i.code === "invalid_type");
  return branches
    .filter((branch) => !rootTypeMismatch(branch))
    .sort((a, b) => a.length - b.length)[0];
}

/** Splits zod issues into errors and unknown keys, looking inside unions for the branch that applies. */
export function sortIssues(
  issues: readonly Issue[],
  base: PropertyKey[] = [],
  out: SortedIssues = { errors: [], unknownKeys: [] },
): SortedIssues {
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) out.unknownKeys.push([...path, key]);
      continue;
    }
    if (issue.code === "invalid_union") {
      const branch = matchingBranch(issue.errors);
      if (branch) {
        sortIssues(branch, path, out);
        continue;
      }
    }
    out.errors.push({ path, message: issue.message });
  }
  return out;
}
