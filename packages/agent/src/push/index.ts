/** The push sampler is shared with the hub and lives in @vigil/common. */
export { PushSampler, type PushSamplerOptions } from '@vigil/common';
