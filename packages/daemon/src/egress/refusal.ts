import { isIP } from "node:net";
import { DEFAULT_PORT } from "./policy.ts";

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad Request",
  403: "Forbidden",
  429: "Too Many Requests",
  501: "Not Implemented",
  502: "Bad Gateway",
};

/** How a user lets a sandbox reach `host:port`, for the body of a refusal. */
export function allowHint(host: string, port: number): string {
  if (isIP(host.replace(/^\[(.*)\]$/, "$1")) !== 0) {
    return "IP addresses cannot be allowed: connect by a name listed in sandbox.network.allowed_domains.";
  }
  const entry = port === DEFAULT_PORT ? host : `${host}:${port}`;
  return (
    `To allow it, add "${entry}" to sandbox.network.allowed_domains in the global config file ` +
    "($XDG_CONFIG_HOME/workmux/config.yaml; a project's .workmux.yaml cannot change it)."
  );
}

/** The text a sandbox sees when the proxy refuses a connection. */
export function refusalText(target: string, reason: string, hint?: string): string {
  return [`wm egress proxy refused ${target}: ${reason}`, ...(hint ? [hint] : []), ""].join("\n");
}

/** A complete HTTP/1.1 response for a socket no HTTP response object owns (CONNECT, limits). */
export function rawResponse(status: number, text: string): string {
  return [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}`,
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(text)}`,
    "Connection: close",
    "",
    text,
  ].join("\r\n");
}

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? "Error";
}
