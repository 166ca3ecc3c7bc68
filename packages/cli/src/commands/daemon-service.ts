import { ExitCode } from "../exit-codes.ts";
import { defineCommand } from "./spec.ts";

export const installServiceCommand = defineCommand({
  name: "install-service",
  summary: "Install and enable the daemon as a systemd user service (Linux) or LaunchAgent (macOS)",
  json: true,
  run: async () => ExitCode.Failure,
});

export const uninstallServiceCommand = defineCommand({
  name: "uninstall-service",
  summary: "Disable and remove the daemon's systemd user service or LaunchAgent",
  json: true,
  run: async () => ExitCode.Failure,
});
