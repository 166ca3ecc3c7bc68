import type { HandlerTable } from "../rpc/dispatch.ts";
import { configGet } from "./config-get.ts";
import { daemonShutdown } from "./daemon-shutdown.ts";
import { daemonStatus } from "./daemon-status.ts";
import { doctorRun } from "./doctor-run.ts";
import { eventsSubscribe } from "./events-subscribe.ts";

export const hostHandlers: HandlerTable = {
  "daemon.status": daemonStatus,
  "daemon.shutdown": daemonShutdown,
  "config.get": configGet,
  "doctor.run": doctorRun,
  "events.subscribe": eventsSubscribe,
};
