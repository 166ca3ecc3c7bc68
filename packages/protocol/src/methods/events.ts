import { z } from "zod";
import { defineMethod } from "../method.ts";

export const eventTopic = z.enum(["daemon", "config", "sandbox", "status", "worktree"]);
export type EventTopic = z.infer<typeof eventTopic>;

/** Params of the `events.event` notification the daemon pushes after `events.subscribe`. */
export const eventNotification = z.object({
  subscription: z.string(),
  seq: z.number().int(),
  time: z.string(),
  topic: eventTopic,
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type WmEvent = z.infer<typeof eventNotification>;

export const EVENT_NOTIFICATION = "events.event";

export const eventsSubscribe = defineMethod({
  summary:
    "Subscribe this WebSocket to daemon events; `events.event` notifications follow the result.",
  surfaces: ["host"],
  stream: true,
  params: z.strictObject({ topics: z.array(eventTopic).optional() }),
  result: z.object({ subscription: z.string() }),
});
