/** Listen addresses as configs write them (`host:port`) and whether they stay on this machine. */

/** Splits `host:port` (`[::1]:9090`, `:9090`); undefined when malformed. */
export function splitHostPort(listen: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

/** True when a listen address only accepts connections from this machine (`:9090` and `0.0.0.0:9090` do not). */
export function isLoopbackListen(listen: string): boolean {
  const hp = splitHostPort(listen);
  if (!hp) return false;
  const h = hp.host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
