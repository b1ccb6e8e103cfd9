export { IngestServer, type IngestServerOptions, type AgentInfo } from './server.js';
export { AgentState } from './state.js';
export { IngestMetrics } from './metrics.js';
