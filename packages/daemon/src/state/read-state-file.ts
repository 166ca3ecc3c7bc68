import { constants, promises as fs } from "node:fs";

/** What reading a state file found: its text, nothing, or why it cannot be one. */
export type StateFileRead =
  | { kind: "text"; text: string }
  | { kind: "missing" }
  | { kind: "refused"; reason: string };

const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads one of the daemon's own state files. A symbolic link there is never followed, anything
 * but a regular file is never read (O_NONBLOCK: opening a FIFO does not wait for a writer),
 * and a file larger than `maxBytes` is refused without being read into memory. I/O errors
 * other than "not there" are thrown: they say nothing about the file's content.
 */
export async function readStateFile(file: string, maxBytes: number): Promise<StateFileRead> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { kind: "missing" };
    if (code === "ELOOP") return { kind: "refused", reason: "it is a symbolic link" };
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return { kind: "refused", reason: "it is not a regular file" };
    if (st.size > maxBytes) return tooLarge(maxBytes);
    // Read to the end, not to the size stat saw: the file may have grown meanwhile.
    const chunks: Buffer[] = [];
    let length = 0;
    while (length <= maxBytes) {
      const chunk = Buffer.alloc(Math.min(Math.max(st.size, 4096), maxBytes + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, length);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
    }
    if (length > maxBytes) return tooLarge(maxBytes);
    try {
      return { kind: "text", text: utf8.decode(Buffer.concat(chunks, length)) };
    } catch {
      return { kind: "refused", reason: "it is not UTF-8 text" };
    }
  } finally {
    await handle.close();
  }
}

function tooLarge(maxBytes: number): StateFileRead {
  return { kind: "refused", reason: `it is larger than ${maxBytes} bytes` };
}
