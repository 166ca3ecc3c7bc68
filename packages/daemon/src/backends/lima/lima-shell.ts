import { constants } from "node:os";
import { PassThrough } from "node:stream";
import { RpcError } from "@wm/protocol";
import type { HostChild } from "../../host-exec/host-child.ts";
import type { SandboxHandle, SandboxInfo, SandboxLaunch } from "../sandbox-backend.ts";
import type { GuestFiles } from "./guest-command.ts";

/** One sandbox of the Lima backend: its launch, its `limactl shell` process and its end. */
export interface Shell {
  handle: SandboxHandle;
  launch: SandboxLaunch;
  instance: string;
  files: GuestFiles;
  out: { stdout: PassThrough; stderr: PassThrough; stdin: PassThrough | undefined };
  child: HostChild | undefined;
  exitCode: number | undefined;
  exited: Promise<number>;
  settle(code: number): void;
}

/** A signal's name as Node knows it ("TERM" and "SIGTERM" both → "SIGTERM"). */
export function signalName(signal: string): NodeJS.Signals {
  const name = (signal.startsWith("SIG") ? signal : `SIG${signal}`) as NodeJS.Signals;
  if (!(name in constants.signals)) {
    throw new RpcError("InvalidParams", `not a signal: ${JSON.stringify(signal)}`);
  }
  return name;
}

/** A created, not yet started sandbox: streams ready to attach before the process exists. */
export function newShell(
  handle: SandboxHandle,
  launch: SandboxLaunch,
  instance: string,
  files: GuestFiles,
): Shell {
  let settle: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    settle = resolve;
  });
  return {
    handle,
    launch,
    instance,
    files,
    out: {
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      stdin: launch.terminal.stdin ? new PassThrough() : undefined,
    },
    child: undefined,
    exitCode: undefined,
    exited,
    settle,
  };
}

export function infoOf(s: Shell): SandboxInfo {
  return {
    handle: s.handle,
    name: s.launch.name,
    image: s.launch.image,
    running: s.child !== undefined && s.exitCode === undefined,
    exitCode: s.exitCode,
    labels: { ...s.launch.labels },
    address: undefined,
  };
}
