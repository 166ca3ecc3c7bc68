import type { HandlerTable } from "../rpc/dispatch.ts";
import { configFiles } from "./config-files.ts";
import { configGet } from "./config-get.ts";
import { configWarnings } from "./config-warnings.ts";
import { daemonShutdown } from "./daemon-shutdown.ts";
import { daemonStatus } from "./daemon-status.ts";
import { doctorRun } from "./doctor-run.ts";
import { eventsSubscribe } from "./events-subscribe.ts";
import { sandboxBuild } from "./sandbox-build.ts";
import {
  sandboxList,
  sandboxPrune,
  sandboxResize,
  sandboxSignal,
  sandboxStop,
  sandboxVmStop,
  sandboxVms,
} from "./sandbox-control.ts";
import { sandboxInitDockerfile } from "./sandbox-init-dockerfile.ts";
import { sandboxAttach, sandboxRun } from "./sandbox-stream.ts";
import { worktreeAdd } from "./worktree-add.ts";
import { worktreeAutoName } from "./worktree-auto-name.ts";
import { worktreeClose } from "./worktree-close.ts";
import { worktreeDiff } from "./worktree-diff.ts";
import { worktreeFind } from "./worktree-find.ts";
import { worktreeLastDone } from "./worktree-last-done.ts";
import { worktreeList } from "./worktree-list.ts";
import { worktreeMerge } from "./worktree-merge.ts";
import { worktreeOpen } from "./worktree-open.ts";
import { worktreeRemove } from "./worktree-remove.ts";
import { worktreeRun } from "./worktree-run.ts";
import { worktreeCapture, worktreeSend } from "./worktree-send.ts";
import { worktreeStatus } from "./worktree-status.ts";
import { worktreeStatusSet } from "./worktree-status-set.ts";
import { worktreeSyncFiles } from "./worktree-sync-files.ts";

export const hostHandlers: HandlerTable = {
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
  "worktree.add": worktreeAdd,
  "worktree.autoName": worktreeAutoName,
  "worktree.list": worktreeList,
  "worktree.open": worktreeOpen,
  "worktree.close": worktreeClose,
  "worktree.remove": worktreeRemove,
  "worktree.merge": worktreeMerge,
  "worktree.statusSet": worktreeStatusSet,
  "worktree.status": worktreeStatus,
  "worktree.find": worktreeFind,
  "worktree.send": worktreeSend,
  "worktree.capture": worktreeCapture,
  "worktree.run": worktreeRun,
  "worktree.syncFiles": worktreeSyncFiles,
  "worktree.lastDone": worktreeLastDone,
  "worktree.diff": worktreeDiff,
};
