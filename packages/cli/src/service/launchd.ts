import path from "node:path";
import { resolvePaths } from "@wm/protocol/paths";
import { type Plan, pathExists, type Step } from "./plan.ts";
import { assertPrintable, daemonPath, readTemplate, renderTemplate, xmlText } from "./template.ts";

export const LAUNCHD_LABEL = "dev.wm.daemon";
export const PLIST_NAME = `${LAUNCHD_LABEL}.plist`;

type Env = Readonly<Record<string, string | undefined>>;

export function launchAgentPath(homedir: string): string {
  return path.join(homedir, "Library", "LaunchAgents", PLIST_NAME);
}

export interface LaunchdRenderOptions {
  templateDir: string;
  env: Env;
  homedir: string;
  uid: number;
  nodePath: string;
  daemonEntry: string;
}

function stateDir(opts: LaunchdRenderOptions): string {
  const tmpdir = opts.env.TMPDIR || "/tmp";
  return resolvePaths({
    env: opts.env,
    platform: "darwin",
    uid: opts.uid,
    homedir: opts.homedir,
    tmpdir,
  }).stateDir;
}

/** The LaunchAgent plist, rendered from the checked-in `launchd/dev.wm.daemon.plist`. */
export async function renderLaunchAgent(opts: LaunchdRenderOptions): Promise<string> {
  const template = await readTemplate(opts.templateDir, `launchd/${PLIST_NAME}`);
  const value = (what: string, v: string) => xmlText(assertPrintable(what, v));
  return renderTemplate(PLIST_NAME, template, {
    NODE: value("node path", opts.nodePath),
    DAEMON_ENTRY: value("daemon entry", opts.daemonEntry),
    HOME: value("home directory", opts.homedir),
    PATH: value("PATH", daemonPath(opts.env.PATH, opts.nodePath)),
    TMPDIR: value("TMPDIR", opts.env.TMPDIR || "/tmp"),
    STDIO_LOG: value("log path", path.join(stateDir(opts), "launchd.log")),
  });
}

function serviceTarget(uid: number): string {
  return `gui/${uid}/${LAUNCHD_LABEL}`;
}

export async function planLaunchdInstall(opts: LaunchdRenderOptions): Promise<Plan> {
  const plist = launchAgentPath(opts.homedir);
  const content = await renderLaunchAgent(opts);
  const steps: Step[] = [];
  if (await pathExists(plist)) {
    steps.push({
      kind: "run",
      argv: ["launchctl", "bootout", serviceTarget(opts.uid)],
      onFailure: "ignore",
    });
  }
  steps.push(
    { kind: "mkdir", path: path.dirname(plist) },
    { kind: "mkdir", path: stateDir(opts) },
    { kind: "write", path: plist, content },
    { kind: "run", argv: ["launchctl", "enable", serviceTarget(opts.uid)], onFailure: "throw" },
    { kind: "run", argv: ["launchctl", "bootstrap", `gui/${opts.uid}`, plist], onFailure: "throw" },
  );
  return { steps, warnings: [] };
}

export async function planLaunchdUninstall(opts: { homedir: string; uid: number }): Promise<Plan> {
  const plist = launchAgentPath(opts.homedir);
  if (!(await pathExists(plist))) return { steps: [], warnings: [`no LaunchAgent at ${plist}`] };
  const steps: Step[] = [
    { kind: "run", argv: ["launchctl", "bootout", serviceTarget(opts.uid)], onFailure: "ignore" },
    { kind: "remove", path: plist },
  ];
  return { steps, warnings: [] };
}
