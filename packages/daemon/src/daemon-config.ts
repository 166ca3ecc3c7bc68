import { loadGlobalConfig } from "./config/index.ts";
import type { ConfiguredDaemonSettings } from "./settings.ts";

/** The daemon's own settings from the global config file; a broken file falls back to defaults. */
export async function readDaemonConfig(
  env: Readonly<Record<string, string | undefined>>,
  homedir: string,
): Promise<ConfiguredDaemonSettings> {
  try {
    const global = await loadGlobalConfig({ env, homedir });
    const daemon = (global.config as { daemon?: { idle_timeout?: number; log_level?: string } })
      .daemon;
    return { idleTimeoutSeconds: daemon?.idle_timeout, logLevel: daemon?.log_level };
  } catch {
    return {};
  }
}
