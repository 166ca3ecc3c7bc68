import { randomUUID } from "node:crypto";
import { EVENT_NOTIFICATION, RpcError } from "@wm/protocol";
import type { Handler } from "../rpc/dispatch.ts";

export const eventsSubscribe: Handler<"events.subscribe"> = (params, call) => {
  const { notify, onClose } = call;
  if (!notify || !onClose)
    throw new RpcError("InvalidRequest", "events.subscribe needs a WebSocket");
  const subscription = randomUUID();
  const unsubscribe = call.daemon.events.subscribe(params.topics, (event) =>
    notify(EVENT_NOTIFICATION, { subscription, ...event }),
  );
  onClose(unsubscribe);
  return { subscription };
};
