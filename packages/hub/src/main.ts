import { resolve } from 'node:path';
import {
  VERSION, ConfigError, createLogger, listen, parseListenAddress, parseCli, runUntilSignal, checkFiles, applyWebConfigFile,
  hasCredentials, hubListenProblem, isLoopbackListen, loadHubConfig, defaultHubConfig, type HubConfig,
} from '@vigil/common';
// The program's modules load after the command line is understood, so --help and --version answer at once.
const loadHub = () => import('./hub.js');
const loadRuleCheck = async () => {
  const [{ parseExpr }, { checkRuleFile }] = await Promise.all([import('./promql/index.js'), import('./rules/file.js')]);
  return (f: string) => checkRuleFile(f, (e) => void parseExpr(e));
};

const SPEC = {
  name: 'vigil-hub',
  version: VERSION,
  summary: 'the central Vigil server: agent ingest, storage, PromQL and the Prometheus HTTP API, UI',
  options: {
    config: { type: 'string', description: 'hub configuration file (YAML)' },
    listen: { type: 'string', description: 'HOST:PORT for HTTP, the UI and the agent stream', default: '127.0.0.1:9090' },
    'data-dir': { type: 'string', description: 'where the store lives', default: './data/hub' },
    'web.config.file': { type: 'string', description: "Prometheus' web config file (basic_auth_users, tls_server_config)" },
    'log-level': { type: 'string', description: 'trace, debug, info, warn, error or silent', default: 'info' },
  },
  commands: {
    'check-config': 'check-config FILE: validate a hub configuration (with --listen and --web.config.file as start would); exit 0 if valid, 1 with file:line and reason',
    'check-rules': 'check-rules FILE...: validate Prometheus rule files',
  },
} as const;

async function main(argv: string[]): Promise<number> {
  const cli = parseCli(argv, SPEC);
  if (cli.kind !== 'run') {
    process.stdout.write(cli.kind === 'version' ? `${cli.text}\n` : cli.text);
    return 0;
  }
  if (cli.command === 'check-config') {
    const { checkHubConfig } = await import('./check.js');
    return checkFiles(SPEC.name, 'check-config FILE', cli.args, async (f) => checkHubConfig(f, await readConfig(f, cli.values)));
  }
  if (cli.command === 'check-rules') return checkFiles(SPEC.name, 'check-rules FILE...', cli.args, await loadRuleCheck());

  const configFile = cli.values.config as string | undefined;
  const config = await readConfig(configFile, cli.values);
  const logger = createLogger({ name: 'vigil-hub', level: (cli.values['log-level'] as 'info' | undefined) ?? 'info' });
  const { host, port } = parseListenAddress(config.listen);
  if (!isLoopbackListen(config.listen) && !hasCredentials(config.api)) {
    logger.error({ listen: config.listen }, 'api.insecure_open: the HTTP API is open to everyone who can reach this address, without credentials: anyone can read, write and delete data and reload the configuration');
  }
  const { startHub } = await loadHub();
  const webFlag = cli.values['web.config.file'];
  const hub = await startHub(config, logger, configFile, { webConfigFile: typeof webFlag === 'string' ? resolve(webFlag) : undefined });
  const listening = await listen(hub.app.fetch, {
    host, port, tls: config.tls ?? config.api.tls_server_config, onUpgrade: (req, socket, head) => hub.ingest.handleUpgrade(req, socket, head),
  });
  hub.setReady();
  logger.info({ url: listening.url, dataDir: config.data_dir, version: VERSION }, 'vigil hub listening');

  await runUntilSignal({
    logger,
    stopMessage: 'stopping: closing agent streams, writing the head into chunks',
    stop: async () => {
      // Stop accepting first, then close the agent streams and the store, then wait for the
      // listener: upgraded agent sockets count as open connections, so waiting for the listener
      // before closing the streams waited for the agents to leave (minutes, while still acking).
      const closed = listening.close();
      await hub.close();
      await closed;
    },
    reload: () => hub.reload(),
  });
  return 0;
}

/**
 * The configuration start uses, and check-config checks: the file (or defaults) with the flags applied, refused
 * when the listen address would serve it to the network without credentials.
 */
async function readConfig(configFile: string | undefined, values: Record<string, string | boolean | undefined>): Promise<HubConfig> {
  const config = configFile ? await loadHubConfig(configFile) : defaultHubConfig();
  if (typeof values.listen === 'string') config.listen = values.listen;
  if (typeof values['data-dir'] === 'string') config.data_dir = values['data-dir'];
  config.data_dir = resolve(config.data_dir);
  const web = values['web.config.file'];
  if (typeof web === 'string') {
    applyWebConfigFile(config.api, resolve(web));
    if (config.tls && config.api.tls_server_config) throw new ConfigError('at most one of tls & the web config file\'s tls_server_config must be configured', configFile);
  }
  const problem = hubListenProblem(config);
  if (problem) throw new ConfigError(problem, configFile);
  return config;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`vigil-hub: ${err.message}\n`);
  process.exit(1);
});
