import { lixProject } from '../../vitest.shared.js';

// One single node and one 3-master cluster for the whole run (each test uses its own key
// prefix); the Redis-kill test starts a server of its own.
export default lixProject('langchain', { globalSetup: ['../../internal/driver-matrix/src/global-setup.ts'] });
