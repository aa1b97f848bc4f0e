import { lixProject } from '../../vitest.shared.js';

// One single node and one 3-master cluster for the whole run (each test uses its own key
// prefix); the outage and crash tests start servers of their own.
export default lixProject('session-window', { globalSetup: ['../../internal/driver-matrix/src/global-setup.ts'] });
