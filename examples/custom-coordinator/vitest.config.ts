import { lixProject } from '../../vitest.shared.js';

export default lixProject('example-custom-coordinator', { testTimeout: 60_000 });
