import type { Handler } from "../rpc/dispatch.ts";

export const sandboxResize: Handler<"sandbox.resize"> = async (params, { daemon }) => {
  await daemon.sandboxes.resize(params.id, params.size);
  return { ok: true };
};

export const sandboxSignal: Handler<"sandbox.signal"> = async (params, { daemon }) => {
  await daemon.sandboxes.signal(params.id, params.signal);
  return { ok: true };
};

export const sandboxList: Handler<"sandbox.list"> = async (_params, { daemon }) => {
  await daemon.sandboxes.ready();
  return { sandboxes: daemon.sandboxes.list() };
};

export const sandboxStop: Handler<"sandbox.stop"> = async (params, { daemon }) => {
  await daemon.sandboxes.ready();
  return daemon.sandboxes.stop(params.names, params.all);
};

export const sandboxPrune: Handler<"sandbox.prune"> = async (_params, { daemon }) => {
  await daemon.sandboxes.ready();
  return daemon.sandboxes.prune();
};

export const sandboxVms: Handler<"sandbox.vms"> = async (_params, { daemon }) => {
  await daemon.sandboxes.ready();
  return { vms: await daemon.sandboxes.vms() };
};

export const sandboxVmStop: Handler<"sandbox.vmStop"> = async (params, { daemon }) => {
  await daemon.sandboxes.ready();
  return daemon.sandboxes.stopVms(params.names, params.remove);
};
