// Entry point of `@lix/redis-pool/conformance`.
export {
  GROUP_NAMES,
  runKVDriverConformance,
  type ConformanceAssertion,
  type ConformanceTestApi,
  type GroupName,
  type KVDriverConformanceOptions,
} from './conformance/suite.js';
