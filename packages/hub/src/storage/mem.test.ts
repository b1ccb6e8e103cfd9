import t from 'tap';
import { MemStorage } from './mem.js';
import { storageConformance } from './conformance.js';

storageConformance(t, async (opts) => new MemStorage(opts));
