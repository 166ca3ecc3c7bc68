export { ConfigError, formatDiagnostic } from "./config-error.ts";
export type { WmConfig } from "./effective-schema.ts";
export { type LoadConfigOptions, type LoadedConfig, loadConfig, loadGlobalConfig } from "./load.ts";
export { findGlobalConfigFile, findProjectFiles, type ProjectFiles } from "./locate.ts";
