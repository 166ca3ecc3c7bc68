import { stat } from "node:fs/promises";
import path from "node:path";
import type { ConfigDiagnostic } from "@wm/protocol";
import { ConfigError, sortDiagnostics } from "./config-error.ts";
import { applyDefaults } from "./defaults.ts";
import { type WmConfig, wmConfigSchema } from "./effective-schema.ts";
import { type ConfigFiles, sharedConfigFiles } from "./file-cache.ts";
import { type LoadedFile, loadConfigFile, type Problems } from "./load-file.ts";
import { findGlobalConfigFile, findProjectFiles, globalConfigDirs } from "./locate.ts";
import { mergeLayers, sourcesOf } from "./merge.ts";
import { linkedWorktreeLayer, type ProjectLayer, wholeProjectLayer } from "./project-layer.ts";
import { deepFreeze } from "./tree.ts";
import { unsupportedPaths } from "./unsupported.ts";

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  cwd: string;
  env: Env;
  homedir: string;
  /** Repo root of cwd if known; else found by walking up to a dir containing .git (file or dir). */
  repoRoot?: string;
  /** Main worktree root if known; else read from the repository's git files. */
  mainWorktreeRoot?: string;
  /** Where files are read and kept until they change; the process's shared cache by default. */
  files?: ConfigFiles;
}

export interface LoadedConfig {
  files: { global: string | null; project: string | null };
  /** Deep-frozen, defaults applied. */
  config: WmConfig;
  /** Dotted leaf key path → absolute file it came from, or "default". */
  sources: Record<string, string>;
  warnings: ConfigDiagnostic[];
  /** Dotted key paths set in the files that wm accepts but does not act on yet. */
  unsupported: string[];
}

interface Layers {
  global: LoadedFile | undefined;
  project: ProjectLayer;
  hasClaudeMd: boolean;
  files: LoadedConfig["files"];
}

function build(layers: Layers, problems: Problems): LoadedConfig {
  const { global, project } = layers;
  const globalLayer = global
    ? { value: global.value, fileOf: () => global.file }
    : { value: {}, fileOf: () => "" };
  const merged = mergeLayers(globalLayer, project.layer);
  applyDefaults(merged.value, merged.origins, { hasClaudeMd: layers.hasClaudeMd });
  const checked = wmConfigSchema.safeParse(merged.value);
  if (!checked.success) {
    throw new Error(`merged configuration does not match its schema: ${checked.error.message}`);
  }
  const config = deepFreeze(checked.data);
  const unsupported = [...(global ? unsupportedPaths(global.known) : []), ...project.unsupported];
  return {
    files: layers.files,
    config,
    sources: sourcesOf(config, merged.origins),
    warnings: sortDiagnostics([...problems.warnings, ...project.warnings]),
    unsupported: [...new Set(unsupported)].sort(),
  };
}

async function loadGlobalFile(
  opts: { env: Env; homedir: string },
  files: ConfigFiles,
  problems: Problems,
) {
  const file = await findGlobalConfigFile(opts.env, opts.homedir);
  const loaded = file ? await loadConfigFile(file, { kind: "global" }, problems, files) : undefined;
  return { file, loaded };
}

/** The global file merged with the project file for `cwd`, checked, with defaults applied. */
export async function loadConfig(opts: LoadConfigOptions): Promise<LoadedConfig> {
  const problems: Problems = { errors: [], warnings: [] };
  const files = opts.files ?? sharedConfigFiles();
  const global = await loadGlobalFile(opts, files, problems);
  const role = {
    kind: "project" as const,
    globalFile:
      global.file ?? path.join(globalConfigDirs(opts.env, opts.homedir)[0] ?? "", "config.yaml"),
  };
  const found = await findProjectFiles(opts);
  const load = (file: string | null) =>
    file ? loadConfigFile(file, role, problems, files) : Promise.resolve(undefined);
  const nearest = await load(found.nearest);
  const linked = found.nearest !== null && found.nearest !== found.trusted;
  const trusted = linked ? await load(found.trusted) : undefined;
  if (problems.errors.length > 0) throw new ConfigError(problems.errors);

  const project =
    linked && nearest ? linkedWorktreeLayer(nearest, trusted) : wholeProjectLayer(nearest);
  const root = found.mainWorktreeRoot ?? found.repoRoot;
  const claudeMd = root
    ? await stat(path.join(root, "CLAUDE.md")).catch(() => undefined)
    : undefined;
  return build(
    {
      global: global.loaded,
      project,
      hasClaudeMd: claudeMd?.isFile() ?? false,
      files: { global: global.file, project: found.nearest },
    },
    problems,
  );
}

/** The global file alone, checked, with defaults applied: the daemon's own settings come from here. */
export async function loadGlobalConfig(opts: {
  env: Env;
  homedir: string;
  files?: ConfigFiles;
}): Promise<LoadedConfig> {
  const problems: Problems = { errors: [], warnings: [] };
  const global = await loadGlobalFile(opts, opts.files ?? sharedConfigFiles(), problems);
  if (problems.errors.length > 0) throw new ConfigError(problems.errors);
  return build(
    {
      global: global.loaded,
      project: wholeProjectLayer(undefined),
      hasClaudeMd: false,
      files: { global: global.file, project: null },
    },
    problems,
  );
}
