export * from './collectors/index.js';
export { HostExporter, type HostExporterOptions } from './exporter.js';
export { VERSION } from './version.js';
