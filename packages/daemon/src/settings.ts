import type { DaemonSettings } from "./context.ts";
import { LOG_LEVELS } from "./log.ts";

export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60 * 1000;
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_WS_MAX_PAYLOAD = 1024 * 1024;

/** Daemon settings as the global config gives them (already validated by the config loader). */
export interface ConfiguredDaemonSettings {
  idleTimeoutSeconds?: number | undefined;
  logLevel?: string | undefined;
}

export class SettingsError extends Error {}

function parseSeconds(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new SettingsError(`${name} must be a number of seconds ≥ 0 (0 = never), got "${value}"`);
  }
  return n;
}

/** Environment overrides config; config overrides defaults. */
export function resolveSettings(
  env: Readonly<Record<string, string | undefined>>,
  configured: ConfiguredDaemonSettings = {},
): DaemonSettings {
  const idleSeconds =
    env.WM_DAEMON_IDLE_TIMEOUT !== undefined && env.WM_DAEMON_IDLE_TIMEOUT !== ""
      ? parseSeconds("WM_DAEMON_IDLE_TIMEOUT", env.WM_DAEMON_IDLE_TIMEOUT)
      : configured.idleTimeoutSeconds;
  const logLevel = env.WM_LOG_LEVEL || configured.logLevel || "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new SettingsError(
      `WM_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`,
    );
  }
  return {
    idleTimeoutMs:
      idleSeconds === undefined ? DEFAULT_IDLE_TIMEOUT_MS : Math.round(idleSeconds * 1000),
    logLevel,
    bodyLimit: DEFAULT_BODY_LIMIT,
    wsMaxPayload: DEFAULT_WS_MAX_PAYLOAD,
    allowedOrigins: [],
  };
}
