import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

/*
 * A stand-in `limactl` for contract tests (Lima cannot be installed here). It records each
 * call's argv (and, for `create`, the YAML file it was given) and answers like Lima v2.2.0:
 * `list --json` prints one object per line with the fields of `pkg/limatype/lima_instance.go`
 * (and the filled `config`); create/start/stop/delete change a state file; `shell --tty=false
 * --workdir W NAME -- argv…` runs argv on this machine in W, as if this machine were the guest.
 */

const SCRIPT = String.raw`
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const YAML = require(process.env.FAKE_LIMA_YAML_MODULE);
const argv = process.argv.slice(2);
const statePath = process.env.FAKE_LIMA_STATE;
const load = () => (fs.existsSync(statePath) ? JSON.parse(fs.readFileSync(statePath, "utf8")) : {});
const save = (s) => fs.writeFileSync(statePath, JSON.stringify(s));
const record = { argv };
const fail = (msg) => { process.stderr.write(msg + "\n"); process.exit(1); };
const units = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
const bytes = (s) => { const m = /^(\d+)(\w*)$/.exec(String(s)); return m ? Number(m[1]) * (units[m[2]] || 1) : 0; };
const cmd = argv[0];
if (cmd === "create") {
  const file = argv[argv.length - 1];
  record.yaml = fs.readFileSync(file, "utf8");
}
fs.appendFileSync(process.env.FAKE_LIMA_LOG, JSON.stringify(record) + "\n");
if (process.env.FAKE_LIMA_FAIL === cmd) fail("time=x level=info msg=\"working\"\ntime=x level=fatal msg=\"fake " + cmd + " failure\"");
const state = load();
const limaHome = process.env.LIMA_HOME || "/home/fake/.lima";
if (cmd === "list") {
  const names = Object.keys(state).sort();
  if (names.length === 0) { process.stderr.write('time=x level=warning msg="No instance found. Run limactl create to create an instance."\n'); process.exit(0); }
  const extra = JSON.parse(process.env.FAKE_LIMA_EXTRA_MOUNTS || "[]");
  for (const name of names) {
    const i = state[name];
    const config = { ...i.config, mountType: process.env.FAKE_LIMA_MOUNT_TYPE || i.config.mountType || "9p", mounts: [...extra, ...(i.config.mounts || [])] };
    process.stdout.write(JSON.stringify({
      name, hostname: "lima-" + name, status: i.status, dir: path.join(limaHome, name), vmType: "qemu", arch: "x86_64",
      cpus: config.cpus || 4, memory: bytes(config.memory || "4GiB"), disk: bytes(config.disk || "100GiB"),
      sshLocalPort: 60022, sshConfigFile: path.join(limaHome, name, "ssh.config"),
      ...(i.status === "Running" ? { hostAgentPID: 4242, driverPID: 4243 } : {}),
      config, sshAddress: "127.0.0.1", protected: false, limaVersion: "2.2.0",
    }) + "\n");
  }
} else if (cmd === "create") {
  const name = argv[argv.indexOf("--name") + 1];
  if (state[name]) fail("time=x level=fatal msg=\"instance \\\"" + name + "\\\" already exists\"");
  state[name] = { status: "Stopped", config: YAML.parse(record.yaml) };
  save(state);
} else if (cmd === "start") {
  const name = argv[argv.length - 1];
  if (!state[name]) fail("time=x level=fatal msg=\"instance " + name + " does not exist\"");
  state[name].status = "Running";
  save(state);
} else if (cmd === "stop") {
  state[argv[argv.length - 1]].status = "Stopped";
  save(state);
} else if (cmd === "delete") {
  const name = argv[argv.length - 1];
  if (!state[name]) { process.stderr.write("time=x level=warning msg=\"Ignoring non-existent instance\"\n"); process.exit(0); }
  delete state[name];
  save(state);
} else if (cmd === "shell") {
  if (argv[1] !== "--tty=false" || argv[2] !== "--workdir" || argv[5] !== "--") fail("fake limactl: unexpected shell argv " + JSON.stringify(argv));
  const [workdir, name] = [argv[3], argv[4]];
  const i = state[name];
  if (!i) fail("time=x level=fatal msg=\"instance " + name + " does not exist, run limactl create " + name + " to create a new instance\"");
  if (i.status !== "Running") fail("time=x level=fatal msg=\"instance " + name + " is stopped\"");
  const guest = argv.slice(6);
  const r = spawnSync(guest[0], guest.slice(1), { cwd: workdir, stdio: "inherit" });
  if (r.error) fail("bash: " + guest[0] + ": command not found");
  process.exit(r.status ?? 128 + (require("node:os").constants.signals[r.signal] || 0));
} else {
  fail("fake limactl: unknown command " + cmd);
}
`;

export interface FakeLimactl {
  /** The executable to give as the limactl path. */
  bin: string;
  /** limactl's environment (the fake's state and log files, LIMA_HOME, PATH). */
  env: Record<string, string>;
  dir: string;
  /** Each call so far: its argv, and for `create` the YAML it was given. */
  calls(): Promise<Array<{ argv: string[]; yaml?: string }>>;
  /** Instances as the fake holds them. */
  state(): Promise<Record<string, { status: string; config: Record<string, unknown> }>>;
  remove(): Promise<void>;
}

export async function makeFakeLimactl(extraEnv: Record<string, string> = {}): Promise<FakeLimactl> {
  const dir = await mkdtemp(path.join(tmpdir(), "wm-fake-lima-"));
  const bin = path.join(dir, "limactl");
  await writeFile(bin, `#!${process.execPath}\n${SCRIPT}`, { mode: 0o755 });
  await chmod(bin, 0o755);
  const log = path.join(dir, "calls.jsonl");
  const statePath = path.join(dir, "state.json");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    LIMA_HOME: path.join(dir, "lima-home"),
    FAKE_LIMA_LOG: log,
    FAKE_LIMA_STATE: statePath,
    FAKE_LIMA_YAML_MODULE: createRequire(import.meta.url).resolve("yaml"),
    ...extraEnv,
  };
  return {
    bin,
    env,
    dir,
    async calls() {
      const text = await readFile(log, "utf8").catch(() => "");
      return text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
    async state() {
      return JSON.parse(await readFile(statePath, "utf8").catch(() => "{}"));
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
