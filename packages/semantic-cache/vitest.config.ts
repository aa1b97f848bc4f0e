import { lixProject } from '../../vitest.shared.js';

export default lixProject('semantic-cache', { globalSetup: ['../driver-matrix/src/global-setup.ts'] });
