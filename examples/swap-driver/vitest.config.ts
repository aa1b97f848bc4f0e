import { lixProject } from '../../vitest.shared.js';

export default lixProject('example-swap-driver', { testTimeout: 60_000 });
