import { lixProject } from '../../vitest.shared.js';

export default lixProject('ai-sdk', { globalSetup: ['../driver-matrix/src/global-setup.ts'] });
