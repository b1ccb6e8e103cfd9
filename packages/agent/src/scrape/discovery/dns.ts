import { promises as dnsp } from 'node:dns';
import { silentLogger, type DnsSDConfig, type Logger } from '@vigil/common';
import type { Discoverer, TargetGroup } from './types.js';

/** The slice of node's promise Resolver that DNS SD uses (injectable for tests). */
export interface DnsResolver {
  resolveSrv(name: string): Promise<{ name: string; port: number }[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * `dns_sd_configs`: resolves each name (SRV, A or AAAA) every `refresh_interval`. SRV records
 * give `target:port`; A/AAAA give `ip:port` with the configured port. Labels:
 * `__meta_dns_name`, `__meta_dns_srv_record_target` (rooted, with the final dot, as Prometheus
 * shows it) and `__meta_dns_srv_record_port`. A name whose lookup fails keeps its last good
 * records; one that no longer exists (NXDOMAIN / no data) becomes empty.
 */
export class DnsDiscoverer implements Discoverer {
  private readonly logger: Logger;
  private readonly resolver: DnsResolver;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly lastGood = new Map<string, TargetGroup>();

  constructor(private readonly cfg: DnsSDConfig, opts: { logger?: Logger; resolver?: DnsResolver; servers?: string[] } = {}) {
    this.logger = (opts.logger ?? silentLogger).child({ discovery: 'dns' });
    if (opts.resolver) this.resolver = opts.resolver;
    else {
      const r = new dnsp.Resolver({ timeout: 2000, tries: 2 });
      if (opts.servers && opts.servers.length > 0) r.setServers(opts.servers);
      this.resolver = r;
    }
  }

  start(update: (groups: TargetGroup[]) => void): void {
    const poll = async (): Promise<void> => {
      await Promise.all(this.cfg.names.map((n) => this.refreshName(n)));
      if (!this.stopped) update(this.cfg.names.map((n) => this.lastGood.get(n)).filter((g): g is TargetGroup => g !== undefined));
    };
    void poll();
    this.timer = setInterval(() => void poll(), this.cfg.refresh_interval);
    this.timer.unref?.();
  }

  private async refreshName(name: string): Promise<void> {
    const targets: Record<string, string>[] = [];
    try {
      if (this.cfg.type === 'SRV') {
        for (const r of await this.resolver.resolveSrv(name)) {
          const host = r.name.replace(/\.$/, '');
          targets.push({
            __address__: hostPort(host, r.port),
            __meta_dns_name: name,
            __meta_dns_srv_record_target: host + '.',
            __meta_dns_srv_record_port: String(r.port),
          });
        }
      } else {
        const ips = this.cfg.type === 'A' ? await this.resolver.resolve4(name) : await this.resolver.resolve6(name);
        for (const ip of ips) {
          targets.push({
            __address__: hostPort(ip, this.cfg.port ?? 0),
            __meta_dns_name: name,
            __meta_dns_srv_record_target: '',
            __meta_dns_srv_record_port: '',
          });
        }
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTFOUND' && code !== 'ENODATA') {
        this.logger.error({ name, err: (err as Error).message }, 'cannot resolve DNS SD name; keeping its last good records');
        return;
      }
    }
    this.lastGood.set(name, { source: name, labels: {}, targets });
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
