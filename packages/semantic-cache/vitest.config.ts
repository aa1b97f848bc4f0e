import { lixProject } from '../../vitest.shared.js';

export default lixProject('semantic-cache', { globalSetup: ['../../internal/driver-matrix/src/global-setup.ts'] });
