import { createLogger, listen, parseCli, parseListenAddress, type CliSpec, type LoggerOptions } from '@vigil/common';
import { HostExporter } from './exporter.js';
import { createApp } from './server.js';
import { VERSION } from './version.js';

const SPEC: CliSpec = {
  name: 'vigil-exporter-node',
  version: VERSION,
  summary: "host metrics with node_exporter's names, served on /metrics",
  options: {
    listen: { type: 'string', description: 'address to serve /metrics on (HOST:PORT, :PORT for all interfaces)', default: ':9100' },
    'log-level': { type: 'string', description: 'trace, debug, info, warn, error, fatal or silent', default: 'info' },
    collectors: { type: 'string', description: 'comma-separated collectors to enable', default: 'all' },
    'path.rootfs': { type: 'string', description: 'root of the host filesystem', default: '/' },
    'path.procfs': { type: 'string', description: 'procfs mount point', default: '/proc' },
    'path.sysfs': { type: 'string', description: 'sysfs mount point', default: '/sys' },
  },
};

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

async function main(argv: string[]): Promise<number> {
  let cli;
  try {
    cli = parseCli(argv, SPEC);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  if (cli.kind !== 'run') {
    process.stdout.write(cli.text.endsWith('\n') ? cli.text : `${cli.text}\n`);
    return 0;
  }
  const v = cli.values;
  const level = (v['log-level'] as string | undefined) ?? 'info';
  if (!LEVELS.includes(level)) {
    process.stderr.write(`cannot parse --log-level "${level}": want one of ${LEVELS.join(', ')}\n`);
    return 2;
  }
  const logger = createLogger({ name: SPEC.name, level: level as NonNullable<LoggerOptions['level']> });
  try {
    const { host, port } = parseListenAddress((v['listen'] as string | undefined) ?? ':9100');
    const collectors = v['collectors'] && v['collectors'] !== 'all' ? String(v['collectors']).split(',').filter(Boolean) : undefined;
    const exporter = new HostExporter({
      logger,
      collectors,
      rootfs: v['path.rootfs'] as string | undefined,
      procfs: v['path.procfs'] as string | undefined,
      sysfs: v['path.sysfs'] as string | undefined,
    });
    const server = await listen(createApp(exporter).fetch, { host, port });
    logger.info({ url: server.url, collectors: exporter.collectorNames }, 'listening');
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'stopping');
        resolve();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    await server.close();
    return 0;
  } catch (err) {
    logger.fatal({ err }, 'cannot start');
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
