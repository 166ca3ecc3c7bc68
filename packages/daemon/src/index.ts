export { buildApp } from "./app.ts";
export type { DaemonContext, DaemonSettings } from "./context.ts";
export { type RunningDaemon, startDaemon } from "./daemon.ts";
export { resolveSettings } from "./settings.ts";
