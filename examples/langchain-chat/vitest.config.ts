import { lixProject } from '../../vitest.shared.js';

export default lixProject('example-langchain-chat', { testTimeout: 60_000 });
