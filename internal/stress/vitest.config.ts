import { lixProject } from '../../vitest.shared.js';

export default lixProject('stress', { testTimeout: 240_000 });
