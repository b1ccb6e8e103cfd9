export type * from './types.js';
export { ConfigSource, FieldReader, ValueReader, parseSize } from './reader.js';
export { RELABEL_ACTIONS, defaultRelabelConfig, readRelabelConfig } from './relabel.js';
export { readTLSConfig, readBasicAuth, readHttpClientFields, type HttpClientFields } from './client.js';
export { readScrapeConfig, readStaticConfig, readFileSDConfig, readHttpSDConfig, readDnsSDConfig, type ScrapeDefaults } from './scrape.js';
export { defaultAgentConfig, parseAgentConfig, loadAgentConfig, readConfigFile } from './agent.js';
export { defaultHubConfig, parseHubConfig, loadHubConfig, isLoopbackListen, splitHostPort, AGENT_ID_RE } from './hub.js';
