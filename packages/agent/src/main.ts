import { resolve } from 'node:path';
import { VERSION, createLogger, listen, parseListenAddress, parseCli, runUntilSignal, checkFiles, hasCredentials, isLoopbackListen, redactUrlPassword } from '@vigil/common';

const SPEC = {
  name: 'vigil-agent',
  version: VERSION,
  summary: 'the Vigil agent: scrapes targets and this host, buffers durably, streams to the hub',
  options: {
    config: { type: 'string', description: 'agent configuration (Prometheus scrape config format plus hub, buffer, host_exporter)' },
    hub: { type: 'string', description: 'hub base URL, ws://host:port or wss://host:port', default: 'ws://127.0.0.1:9090' },
    token: { type: 'string', description: 'token the hub expects from this agent' },
    datacenter: { type: 'string', description: 'datacenter name, the external label "datacenter" on every series', default: 'default' },
    listen: { type: 'string', description: 'HOST:PORT for the push API, targets and /metrics', default: '127.0.0.1:9091' },
    'data-dir': { type: 'string', description: 'where the buffer and pushed groups live', default: './data/agent' },
    'web.config.file': { type: 'string', description: "Prometheus' web config file (basic_auth_users, tls_server_config)" },
    'log-level': { type: 'string', description: 'trace, debug, info, warn, error or silent', default: 'info' },
  },
  commands: { 'check-config': 'check-config FILE: validate an agent configuration (with --listen and --web.config.file as start would); exit 0 if valid, 1 with file:line and reason' },
} as const;

async function main(argv: string[]): Promise<number> {
  const cli = parseCli(argv, SPEC);
  if (cli.kind !== 'run') {
    process.stdout.write(cli.kind === 'version' ? `${cli.text}\n` : cli.text);
    return 0;
  }
  const v = cli.values;
  const listenAddress = (v.listen as string | undefined) ?? '127.0.0.1:9091';
  const webConfigFile = typeof v['web.config.file'] === 'string' ? resolve(v['web.config.file']) : undefined;
  // The program's modules load after the command line is understood, so --help and --version answer at once.
  const { readAgentConfig, startAgent } = await import('./agent.js');
  if (cli.command === 'check-config') {
    return checkFiles(SPEC.name, 'check-config FILE', cli.args, async (f) => { await readAgentConfig({ configFile: f, webConfigFile, listen: listenAddress }); return []; });
  }
  const logger = createLogger({ name: 'vigil-agent', level: (v['log-level'] as 'info' | undefined) ?? 'info' });
  const flags = {
    configFile: v.config as string | undefined,
    hub: v.hub as string | undefined,
    token: v.token as string | undefined,
    datacenter: v.datacenter as string | undefined,
    webConfigFile,
    listen: listenAddress,
  };
  const config = await readAgentConfig(flags);
  if (!isLoopbackListen(listenAddress) && !hasCredentials(config.api)) {
    logger.error({ listen: listenAddress }, 'api.insecure_open: the agent API is open to everyone who can reach this address, without credentials: anyone can push data and reload the configuration');
  }
  const agent = await startAgent({ config, flags, dataDir: resolve((v['data-dir'] as string | undefined) ?? './data/agent'), logger });
  const { host, port } = parseListenAddress(listenAddress);
  const listening = await listen(agent.app.fetch, { host, port, tls: config.api.tls_server_config });
  logger.info({ url: listening.url, hub: redactUrlPassword(config.hub.url), agent: agent.id, datacenter: agent.datacenter, version: VERSION }, 'vigil agent listening');

  await runUntilSignal({
    logger,
    stopMessage: 'stopping: last samples into the buffer, closing the link',
    stop: async () => {
      await listening.close();
      await agent.close();
    },
    reload: () => agent.reload(),
  });
  return 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`vigil-agent: ${err.message}\n`);
  process.exit(1);
});
