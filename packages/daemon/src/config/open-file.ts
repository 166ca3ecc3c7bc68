import { constants } from "node:fs";
import { open } from "node:fs/promises";

/** Config files are small; a larger one (an agent can write a project file) is refused unread. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** What tells one version of a file from another without reading it. */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return (
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs
  );
}

export interface OpenConfigFile {
  /** From the open file itself, so it describes what `readText` reads. */
  identity: FileIdentity;
  readText(): Promise<string>;
  close(): Promise<void>;
}

const tooBig = (size: number | bigint) =>
  new Error(`it is ${size} bytes; wm reads config files of up to ${MAX_CONFIG_BYTES} bytes`);

/** Opens a config file; a FIFO or device is refused without blocking, and so is an oversized file. */
export async function openConfigFile(file: string): Promise<OpenConfigFile> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await handle.stat({ bigint: true });
    if (!st.isFile()) throw new Error("it is not a regular file");
    if (st.size > MAX_CONFIG_BYTES) throw tooBig(st.size);
    const { dev, ino, size, mtimeNs, ctimeNs } = st;
    return {
      identity: { dev, ino, size, mtimeNs, ctimeNs },
      async readText() {
        // Read at most one byte past the limit, in case the file grew since the stat.
        const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
        let length = 0;
        for (;;) {
          const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
          if (bytesRead === 0) break;
          length += bytesRead;
          if (length > MAX_CONFIG_BYTES) throw tooBig(length);
        }
        return buf.subarray(0, length).toString("utf8");
      },
      close: () => handle.close(),
    };
  } catch (err) {
    await handle.close();
    throw err;
  }
}
