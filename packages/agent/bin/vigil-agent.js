#!/usr/bin/env node
// More libuv threads than the default 4, set before the pool starts: fsyncs of the log and the
// buffer, LevelDB and WebSocket (de)compression share it, and a slow disk must not queue the
// link's compression behind its fsyncs.
process.env.UV_THREADPOOL_SIZE ??= '16';
await import('../dist/main.js');
