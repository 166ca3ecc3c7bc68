import { z } from "zod";
import { defineMethod } from "../method.ts";

export const configDiagnostic = z.object({
  file: z.string(),
  /** Dotted key path, e.g. `sandbox.container.runtime`; empty for whole-file problems. */
  key: z.string(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
  message: z.string(),
  /** `unknown-key`: a key no schema has (a typo, or a key of another tool); it is ignored. */
  code: z.enum(["unknown-key"]).optional(),
  /** For an unknown key: the valid key (dotted) it is closest to. */
  suggestion: z.string().optional(),
});
export type ConfigDiagnostic = z.infer<typeof configDiagnostic>;

export const configGet = defineMethod({
  summary:
    "Effective configuration for a directory: merged global and project files, with the file each key came from.",
  surfaces: ["host"],
  params: z.strictObject({
    /** Absolute directory to resolve the project config from. */
    cwd: z.string().min(1),
  }),
  result: z.object({
    files: z.object({ global: z.string().nullable(), project: z.string().nullable() }),
    config: z.record(z.string(), z.unknown()),
    /** Dotted key path of each set leaf → file it came from, or "default". */
    sources: z.record(z.string(), z.string()),
    warnings: z.array(configDiagnostic),
    /** Accepted keys that wm does not act on. */
    unsupported: z.array(z.string()),
    /** The keys of `unsupported` wm will never act on → why (the others are "not yet"). */
    notPlanned: z.record(z.string(), z.string()),
  }),
});

export const configWarnings = defineMethod({
  summary:
    "Config warnings for a directory that have not been shown since their file last changed; what this returns counts as shown.",
  surfaces: ["host"],
  params: z.strictObject({
    /** Absolute directory to resolve the project config from. */
    cwd: z.string().min(1),
    /**
     * The caller is about to start an agent: unknown keys under `sandbox:` are left out (and
     * not counted as shown), because the command itself refuses them.
     */
    startsAgent: z.boolean().default(false),
  }),
  /** Empty when the files cannot be loaded: the command that reads them reports why. */
  result: z.object({ warnings: z.array(configDiagnostic) }),
});

export const configFiles = defineMethod({
  summary:
    "The config files wm reads for a directory, in the order they apply (global, then project), whether they exist or not.",
  surfaces: ["host"],
  params: z.strictObject({
    /** Absolute directory to resolve the project config from. */
    cwd: z.string().min(1),
  }),
  result: z.object({
    /** The global file: the one found, else where `wm config edit` creates it. */
    global: z.object({ path: z.string(), exists: z.boolean() }),
    /** The project file for cwd (the nearest walking up inside its worktree); null outside a repository. */
    project: z.string().nullable(),
    /** Where host-run settings (hooks, panes) come from when that is another file (in a linked worktree). */
    trusted: z.string().nullable(),
    /** The worktree cwd lies in; null outside a repository. */
    repoRoot: z.string().nullable(),
  }),
});
