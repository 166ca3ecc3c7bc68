import { RpcError } from "@wm/protocol";
import {
  LIMA_MOUNT_TYPE,
  type LimaMount,
  type LimaVmSettings,
  limaInstanceYaml,
} from "./lima-config.ts";
import { sameMounts } from "./lima-mounts.ts";
import type { Limactl } from "./limactl.ts";

/** The VM settings of every instance; the mounts come from each launch. */
export type LimaInstanceSettings = Omit<LimaVmSettings, "mounts">;

function describe(mounts: readonly LimaMount[]): string {
  return mounts.map((m) => `${m.hostPath}→${m.guestPath}${m.writable ? "" : " (ro)"}`).join(", ");
}

/**
 * A repository's Lima instance, brought to the state a launch needs: created with exactly the
 * launch's shares, running, and reported by Lima with those shares and 9p. Lima fixes an
 * instance's mounts when it is created, so an instance with other mounts is deleted and made
 * again — unless sandboxes of ours still run in it, which refuses the launch instead. One call
 * per instance at a time.
 */
export class LimaInstances {
  readonly #limactl: Limactl;
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(limactl: Limactl) {
    this.#limactl = limactl;
  }

  /** `settings` apply when the instance is (re)made; a running one keeps its own size. */
  ensure(
    name: string,
    settings: LimaInstanceSettings,
    mounts: readonly LimaMount[],
    busy: () => boolean,
  ): Promise<void> {
    const prev = this.#queues.get(name) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.#ensure(name, settings, mounts, busy));
    this.#queues.set(name, next);
    return next;
  }

  async #ensure(
    name: string,
    settings: LimaInstanceSettings,
    mounts: readonly LimaMount[],
    busy: () => boolean,
  ): Promise<void> {
    let inst = await this.#limactl.find(name);
    if (inst && !sameMounts(inst.mounts, mounts)) {
      if (busy()) {
        throw new RpcError(
          "Conflict",
          `the Lima instance ${name} runs other sandboxes of this repository with other mounts, and Lima cannot change a running instance's mounts; stop them (wm sandbox stop) and start this one again`,
          { instance: name },
        );
      }
      await this.#limactl.delete(name);
      inst = undefined;
    }
    if (!inst) {
      await this.#limactl.create(name, limaInstanceYaml({ ...settings, mounts }));
      inst = await this.#limactl.find(name);
      if (!inst) throw new RpcError("Unavailable", `limactl create made no instance ${name}`);
    }
    this.#check(name, inst.mounts, inst.mountType, mounts);
    if (inst.status !== "Running") await this.#limactl.start(name);
  }

  /** Lima's filled config merges $LIMA_HOME/_config/{default,override}.yaml: refuse what they widen. */
  #check(
    name: string,
    got: readonly LimaMount[],
    mountType: string | undefined,
    want: readonly LimaMount[],
  ): void {
    const where =
      "a $LIMA_HOME/_config/default.yaml or override.yaml changes it; remove that setting (or point LIMA_HOME at a directory of wm's own)";
    if (!sameMounts(got, want)) {
      throw new RpcError(
        "Refused",
        `Lima would give the instance ${name} other mounts than wm asked for (asked: ${describe(want)}; Lima: ${describe(got)}): ${where}; no sandbox was started`,
        { instance: name },
      );
    }
    if (mountType !== undefined && mountType !== LIMA_MOUNT_TYPE) {
      throw new RpcError(
        "Refused",
        `Lima would mount the instance ${name}'s shares with ${mountType}, not ${LIMA_MOUNT_TYPE} (the only type whose read-only shares QEMU enforces): ${where}; no sandbox was started`,
        { instance: name },
      );
    }
  }
}
