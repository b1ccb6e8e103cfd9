export type * from './types.js';
export { ConfigSource, FieldReader, ValueReader, parseSize } from './reader.js';
export { RELABEL_ACTIONS, defaultRelabelConfig, readRelabelConfig } from './relabel.js';
export { readTLSConfig, readBasicAuth, readHttpClientFields, type HttpClientFields } from './client.js';
export { readScrapeConfig, readStaticConfig, readFileSDConfig, readHttpSDConfig, readDnsSDConfig, type ScrapeDefaults } from './scrape.js';
export { defaultAgentConfig, parseAgentConfig, loadAgentConfig, readConfigFile } from './agent.js';
export { defaultHubConfig, parseHubConfig, loadHubConfig, hubListenProblem, AGENT_ID_RE } from './hub.js';
export { isLoopbackListen, splitHostPort } from './listen.js';
export {
  API_SCOPES, MIN_TOKEN_LENGTH, defaultApiConfig, readApiConfig, readSecretField, applyWebConfigFile, hasCredentials, listenAuthProblem,
} from './api.js';
export { redactSecrets, redactUrlPassword, SECRET } from './redact.js';
