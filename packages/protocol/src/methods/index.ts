import type { z } from "zod";
import type { MethodSpec, Surface } from "../method.ts";
import { configFiles, configGet, configWarnings } from "./config.ts";
import { daemonShutdown, daemonStatus } from "./daemon.ts";
import { doctorRun } from "./doctor.ts";
import { eventsSubscribe } from "./events.ts";
import { agentMerge, agentSpawn, notify, statusGet, statusSet } from "./guest.ts";
import {
  sandboxAttach,
  sandboxBuild,
  sandboxInitDockerfile,
  sandboxList,
  sandboxPrune,
  sandboxResize,
  sandboxRun,
  sandboxSignal,
  sandboxStop,
  sandboxVmStop,
  sandboxVms,
} from "./sandbox.ts";
import * as worktree from "./worktree.ts";

/** Every method, declared once. Both ends import this table. */
export const methods = {
  "daemon.status": daemonStatus,
  "daemon.shutdown": daemonShutdown,
  "config.get": configGet,
  "config.warnings": configWarnings,
  "config.files": configFiles,
  "doctor.run": doctorRun,
  "events.subscribe": eventsSubscribe,
  "sandbox.run": sandboxRun,
  "sandbox.attach": sandboxAttach,
  "sandbox.resize": sandboxResize,
  "sandbox.signal": sandboxSignal,
  "sandbox.list": sandboxList,
  "sandbox.stop": sandboxStop,
  "sandbox.prune": sandboxPrune,
  "sandbox.vms": sandboxVms,
  "sandbox.vmStop": sandboxVmStop,
  "sandbox.build": sandboxBuild,
  "sandbox.initDockerfile": sandboxInitDockerfile,
  "status.set": statusSet,
  "status.get": statusGet,
  "agent.notify": notify,
  "agent.spawn": agentSpawn,
  "agent.merge": agentMerge,
  "worktree.add": worktree.worktreeAdd,
  "worktree.autoName": worktree.worktreeAutoName,
  "worktree.list": worktree.worktreeList,
  "worktree.open": worktree.worktreeOpen,
  "worktree.close": worktree.worktreeClose,
  "worktree.remove": worktree.worktreeRemove,
  "worktree.merge": worktree.worktreeMerge,
  "worktree.statusSet": worktree.worktreeStatusSet,
  "worktree.status": worktree.worktreeStatus,
  "worktree.find": worktree.worktreeFind,
  "worktree.send": worktree.worktreeSend,
  "worktree.capture": worktree.worktreeCapture,
  "worktree.run": worktree.worktreeRun,
  "worktree.syncFiles": worktree.worktreeSyncFiles,
  "worktree.lastDone": worktree.worktreeLastDone,
  "worktree.diff": worktree.worktreeDiff,
} as const satisfies Record<string, MethodSpec>;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type Params<M extends MethodName> = z.input<Methods[M]["params"]>;
export type ParsedParams<M extends MethodName> = z.output<Methods[M]["params"]>;
export type Result<M extends MethodName> = z.output<Methods[M]["result"]>;

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(methods, name);
}

export function methodsFor(surface: Surface): MethodName[] {
  return (Object.keys(methods) as MethodName[]).filter((m) =>
    (methods[m].surfaces as readonly Surface[]).includes(surface),
  );
}

/** Methods whose shape never changes, so a client of any version may call them. */
export const VERSION_STABLE_METHODS: ReadonlySet<string> = new Set([
  "daemon.status",
  "daemon.shutdown",
]);

export * from "./config.ts";
export * from "./daemon.ts";
export * from "./doctor.ts";
export * from "./events.ts";
export * from "./guest.ts";
export * from "./sandbox.ts";
export * from "./worktree.ts";
