import { lixProject } from '../../vitest.shared.js';

export default lixProject('ai-sdk', { globalSetup: ['../../internal/driver-matrix/src/global-setup.ts'] });
