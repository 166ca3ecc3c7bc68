import { RpcError } from "@wm/protocol";
import type { CallContext } from "../context.ts";
import type { Handler } from "../rpc/dispatch.ts";
import type { SessionClient } from "../sandbox/terminal-session.ts";

/** Wire a WebSocket call to a sandbox's terminal: output out, stdin frames in, detach on close. */
function sessionClient(call: CallContext, id: () => string | undefined): SessionClient {
  const { binary, notify, onClose } = call;
  if (!binary || !notify || !onClose)
    throw new RpcError("InvalidRequest", "terminal streams need the WebSocket at /ws");
  binary.onFrame((frame) => {
    const target = id();
    if (target) call.daemon.sandboxes.input(target, frame);
  });
  return { sendBinary: (frame) => binary.send(frame), notify, onClose };
}

export const sandboxRun: Handler<"sandbox.run"> = async (params, call) => {
  let sandboxId: string | undefined;
  const client = sessionClient(call, () => sandboxId);
  const env = Object.fromEntries(Object.entries(params.env ?? {}).filter(([k]) => k.length > 0));
  const sandbox = await call.daemon.sandboxes.run(
    {
      worktree: params.worktree,
      agent: params.agent,
      command: params.command,
      tty: params.tty,
      interactive: params.interactive,
      size: params.size,
      env,
    },
    client,
  );
  sandboxId = sandbox.id;
  return { sandbox };
};

export const sandboxAttach: Handler<"sandbox.attach"> = async (params, call) => {
  await call.daemon.sandboxes.ready();
  let sandboxId: string | undefined;
  const client = sessionClient(call, () => sandboxId);
  const sandbox = await call.daemon.sandboxes.attach(params.id, client, params.size);
  sandboxId = sandbox.id;
  return { sandbox };
};
