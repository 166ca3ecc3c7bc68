import path from "node:path";
import { type Plan, pathExists, type Step } from "./plan.ts";
import {
  assertPrintable,
  daemonPath,
  readTemplate,
  renderTemplate,
  systemdExecArg,
  systemdQuoted,
} from "./template.ts";

export const SYSTEMD_SERVICE = "wm.service";
export const SYSTEMD_SOCKET = "wm.socket";
const UNITS = [SYSTEMD_SERVICE, SYSTEMD_SOCKET] as const;

type Env = Readonly<Record<string, string | undefined>>;

export const SYSTEMD_FAILURE_HINT =
  "`systemctl --user` needs a running systemd user manager (a normal login session, or " +
  "`loginctl enable-linger $USER`). Where there is none, as in most containers, skip the " +
  "service: the wm CLI starts the daemon on demand.";

/** `$XDG_CONFIG_HOME/systemd/user`, or `~/.config/systemd/user`. */
export function systemdUnitDir(env: Env, homedir: string): string {
  const configHome = env.XDG_CONFIG_HOME?.startsWith("/")
    ? env.XDG_CONFIG_HOME
    : path.join(homedir, ".config");
  return path.join(configHome, "systemd", "user");
}

export interface SystemdRenderOptions {
  templateDir: string;
  env: Env;
  nodePath: string;
  daemonEntry: string;
  socketActivation: boolean;
}

/** Unit file name → rendered content, from the checked-in templates in `systemd/`. */
export async function renderSystemdUnits(opts: SystemdRenderOptions): Promise<Map<string, string>> {
  const values = {
    NODE: systemdExecArg(assertPrintable("node path", opts.nodePath)),
    DAEMON_ENTRY: systemdExecArg(assertPrintable("daemon entry", opts.daemonEntry)),
    PATH: systemdQuoted(assertPrintable("PATH", daemonPath(opts.env.PATH, opts.nodePath))),
    IDLE_TIMEOUT: opts.socketActivation ? "" : "0",
  };
  const units = new Map<string, string>();
  const names = opts.socketActivation ? UNITS : [SYSTEMD_SERVICE];
  for (const name of names) {
    const template = await readTemplate(opts.templateDir, `systemd/${name}`);
    units.set(name, renderTemplate(name, template, values));
  }
  return units;
}

async function installedUnits(unitDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of UNITS) if (await pathExists(path.join(unitDir, name))) found.push(name);
  return found;
}

export async function planSystemdInstall(
  opts: SystemdRenderOptions & { homedir: string },
): Promise<Plan> {
  const unitDir = systemdUnitDir(opts.env, opts.homedir);
  const units = await renderSystemdUnits(opts);
  const previous = await installedUnits(unitDir);
  const steps: Step[] = [];
  const warnings: string[] = [];
  if (previous.length > 0) {
    steps.push({
      kind: "run",
      argv: ["systemctl", "--user", "disable", "--now", ...previous],
      onFailure: "warn",
    });
  }
  steps.push({ kind: "mkdir", path: unitDir });
  for (const [name, content] of units)
    steps.push({ kind: "write", path: path.join(unitDir, name), content });
  for (const name of previous) {
    if (units.has(name)) continue;
    steps.push({ kind: "remove", path: path.join(unitDir, name) });
    warnings.push(`removed ${name} left by an earlier install with socket activation`);
  }
  steps.push({ kind: "run", argv: ["systemctl", "--user", "daemon-reload"], onFailure: "throw" });
  const enable = opts.socketActivation ? SYSTEMD_SOCKET : SYSTEMD_SERVICE;
  steps.push({
    kind: "run",
    argv: ["systemctl", "--user", "enable", "--now", enable],
    onFailure: "throw",
  });
  return { steps, warnings };
}

export async function planSystemdUninstall(opts: { env: Env; homedir: string }): Promise<Plan> {
  const unitDir = systemdUnitDir(opts.env, opts.homedir);
  const previous = await installedUnits(unitDir);
  if (previous.length === 0) return { steps: [], warnings: [`no wm units in ${unitDir}`] };
  const steps: Step[] = [
    {
      kind: "run",
      argv: ["systemctl", "--user", "disable", "--now", ...previous],
      onFailure: "warn",
    },
    ...previous.map((name): Step => ({ kind: "remove", path: path.join(unitDir, name) })),
    { kind: "run", argv: ["systemctl", "--user", "daemon-reload"], onFailure: "warn" },
  ];
  return { steps, warnings: [] };
}
