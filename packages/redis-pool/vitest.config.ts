import { lixProject } from '../../vitest.shared.js';

// One single node and one 3-master cluster for the whole run, shared by every test file
// (each test uses its own key prefix); fault tests start servers of their own.
export default lixProject('redis-pool', { globalSetup: ['../../internal/driver-matrix/src/global-setup.ts'] });
