export { parseExposition, formatFromContentType, unescapeHelp, type Exposition, type ExpositionSample, type ExpositionFormat, type ParseOptions } from './parser.js';
export { ExpositionReader } from './reader.js';
export { ImportParser, type ImportSampleHandler } from './import.js';
export { writeText, writeOpenMetrics, negotiate, TEXT_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE, SCRAPE_ACCEPT_HEADER, type Negotiated } from './writer.js';
export { toFamilies, familyOf } from './families.js';
export { parseGoFloat, formatGoFloat } from './float.js';
