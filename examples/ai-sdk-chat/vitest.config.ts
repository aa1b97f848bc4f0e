import { lixProject } from '../../vitest.shared.js';

export default lixProject('example-ai-sdk-chat', { testTimeout: 60_000 });
