import { lixProject } from '../../vitest.shared.js';

export default lixProject('example-archive-only', { testTimeout: 60_000 });
