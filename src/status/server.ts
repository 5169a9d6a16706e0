// Serves the status app on Deno.serve at a "host:port" / "[v6]:port" address.
import { createStatusApp } from "./app.ts";
import type { StatusSource } from "./source.ts";

export interface ListenAddr {
  readonly hostname: string;
  readonly port: number;
}

export interface StatusServer {
  readonly addr: ListenAddr;
  /** Base URL, e.g. "http://[::1]:8064". */
  readonly url: string;
  close(): Promise<void>;
}

/** "127.0.0.1:8064", "[::1]:8064", "localhost:8064"; port 0 picks a free port. */
export function parseListen(listen: string): ListenAddr {
  const m = /^\[([0-9a-fA-F:.]+)\]:([0-9]{1,5})$/.exec(listen) ??
    /^([^:\[\]]+):([0-9]{1,5})$/.exec(listen);
  if (!m) throw new Error(`status listen address must be "host:port" or "[v6]:port": "${listen}"`);
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`status listen port out of range: "${listen}"`);
  return { hostname: m[1], port };
}

export function urlOf(a: ListenAddr): string {
  return `http://${a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname}:${a.port}`;
}

/** `listen` as text ("127.0.0.1:8064", "[::1]:8064") or as the config's parsed address. */
export function startStatusServer(
  listen: string | { readonly host: string; readonly port: number },
  src: StatusSource,
): StatusServer {
  const want = typeof listen === "string"
    ? parseListen(listen)
    : { hostname: listen.host, port: listen.port };
  const app = createStatusApp(src);
  const server = Deno.serve(
    { hostname: want.hostname, port: want.port, onListen: () => {} },
    app.fetch,
  );
  const a = server.addr as Deno.NetAddr;
  const addr = { hostname: a.hostname, port: a.port };
  let closing: Promise<void> | undefined;
  return {
    addr,
    url: urlOf(addr),
    close: () => closing ??= server.shutdown(),
  };
}
