import { lixProject } from '../../vitest.shared.js';

export default lixProject('example-codec-only', { testTimeout: 60_000 });
