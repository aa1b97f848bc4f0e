import { lixProject } from '../../vitest.shared.js';

// One single node and one 3-master cluster for the whole run (from driver-matrix), shared
// by every test file with per-test key prefixes; connection-count tests start their own server.
export default lixProject('coordinator', { globalSetup: ['../../internal/driver-matrix/src/global-setup.ts'] });
