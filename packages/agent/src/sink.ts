/** The agent's sink interface lives in @vigil/common, shared with the hub's own producers. */
export type { SampleSink } from '@vigil/common';
