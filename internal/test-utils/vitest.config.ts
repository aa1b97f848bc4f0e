import { lixProject } from '../../vitest.shared.js';

export default lixProject('test-utils');
