import type { Plugin } from "esbuild";

export declare const DAEMON_STUBS: readonly {
  module: RegExp;
  stub: string;
  leaves: readonly string[];
}[];
export declare function daemonStubs(): Plugin;
export declare function asciiComments(text: string): string;
export declare function makeAscii(file: string): Promise<void>;
